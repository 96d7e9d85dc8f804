import * as allure from 'allure-js-commons';
import { Given, When } from './support/dsl.js';
import type { MeshWorld } from './support/world.js';
import { profile } from '../src/load/profile.js';

// The mesh control plane away: the data plane must keep the last config it was given.
Given('the mesh control plane is stopped', async function (this: MeshWorld) {
  await this.session.stopControlPlane();
});

When('{int} requests are sent to {service} at {int} rps while the mesh control plane restarts', async function (this: MeshWorld, n: number, service: string, rps: number) {
  await this.session.sendLoadDuringRestart(profile({ service, requests: n, rps }), this.upcomingChecks());
  await this.attachLoads(1);
  await allure.attachment('control plane restart', JSON.stringify(this.session.restart, null, 2), { contentType: 'application/json' });
});
