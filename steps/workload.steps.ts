import { Given } from './support/dsl.js';
import type { MeshWorld } from './support/world.js';
import { UsageError, at } from '../src/errors.js';

Given('the {service} service runs versions {string}', async function (this: MeshWorld, service: string, list: string) {
  const versions = list.split(',').map((v) => v.trim()).filter(Boolean);
  if (versions.length === 0) throw new UsageError(`${at(this.ref)}: no versions listed; expected e.g. "v1, v2, v3"`);
  await this.session.runVersions(service, versions);
});

Given('one instance of {service} fails every request with status {int}', async function (this: MeshWorld, service: string, status: number) {
  await this.session.failOneInstance(service, status);
});

Given('{service} takes {duration} to respond', async function (this: MeshWorld, service: string, ms: number) {
  await this.session.slowService(service, ms);
});
