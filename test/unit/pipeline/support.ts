/** Shared set-up of the pipeline unit tests: the three-destination test policy in the in-process driver. */
import { type DriverOptions, PipelineDriver } from '../../helpers/driver.ts';
import { type DestinationTopics, type Keys, makeKeys, policyYaml } from '../../helpers/pipeline.ts';

export const DEST: DestinationTopics = {
  mixpanel: 'events.dest.mixpanel',
  ads: 'events.dest.ads',
  warehouse: 'events.dest.warehouse',
};

/** The HMAC key of inline test policies (`hashKey: { env: HK }`); made up, 40 bytes. */
export const HK_ENV: Readonly<Record<string, string>> = Object.freeze({
  HK: 'test-only-hmac-key-0123456789abcdefghijklmno',
});

let keys: Promise<Keys> | undefined;

/** One key directory per test process: RSA key generation is slow. */
export function testKeys(): Promise<Keys> {
  keys ??= makeKeys();
  return keys;
}

/** A driver running test/helpers/pipeline.ts's policy, with the Segment schema registered for the input. */
export async function segmentDriver(options: Partial<DriverOptions> = {}): Promise<PipelineDriver> {
  const driver = await PipelineDriver.create({ policy: policyYaml(await testKeys(), DEST), ...options });
  await driver.registerInput();
  return driver;
}

/** Header values as strings (Buffers decoded as UTF-8). */
export function headerText(headers: Record<string, Buffer | string> | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(headers ?? {}).map(([k, v]) => [k, v.toString()]));
}
