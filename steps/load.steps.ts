import { When } from './support/dsl.js';
import type { MeshWorld } from './support/world.js';
import * as allure from 'allure-js-commons';
import { profile } from '../src/load/profile.js';

When('{int} requests are sent to {service} at {int} rps', async function (this: MeshWorld, n: number, service: string, rps: number) {
  await this.sendLoad(profile({ service, requests: n, rps }));
});

When('{service} sends {int} requests to {service} at {int} rps', async function (this: MeshWorld, caller: string, n: number, service: string, rps: number) {
  await this.sendLoad(profile({ service, caller, requests: n, rps }));
});

When('{int} requests with header {string} = {string} are sent to {service} at {int} rps', async function (this: MeshWorld, n: number, header: string, value: string, service: string, rps: number) {
  await this.sendLoad(profile({ service, requests: n, rps, headers: { [header.toLowerCase()]: value } }));
});

When('{int} concurrent requests are sent to {service}', async function (this: MeshWorld, n: number, service: string) {
  await this.sendLoad(profile({ service, requests: n, maxInFlight: n }));
});

When('a plaintext client outside the mesh calls {service}', async function (this: MeshWorld, service: string) {
  await this.session.plaintextProbe(service);
  await allure.attachment('plaintext probe', JSON.stringify(this.session.probe, null, 2), { contentType: 'application/json' });
});

When('{int} rps are sent to {service} for {duration} with and without the mesh', async function (this: MeshWorld, rps: number, service: string, ms: number) {
  await this.session.overheadRun(service, rps, ms);
  await this.attachLoads(2);
});
