// Fuzz the restricted unpickler on its own: the data.pkl of torch's own archives (and the malicious
// one) with opcodes inserted and replaced, arguments and lengths overwritten by interesting values,
// runs of opcodes repeated thousands of times (deep nesting, long stacks, memo growth), byte-level
// mutations and random bytes. The resolver allows every global (as a class that runs nothing), so the
// machine itself is what is fuzzed; the allow-list is tested in test/security/. Every failure must
// be a PickleError naming the file.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { PickleBox, PickleClass, PickleError, unpickle } from '../../engine/io/pickle.ts';
import { readZip } from '../../engine/io/zip.ts';
import { caseCount, fuzz } from './harness.ts';
import { Rng, copy, mutateBytes, mutatePickle } from './mutate.ts';

const fixture = (name: string) => readFileSync(new URL(`../fixtures/io/${name}`, import.meta.url));
const pickleOf = (zip: Uint8Array) => copy([...readZip(zip, 'seed')].find(([name]) => name.endsWith('/data.pkl'))![1]);
const ascii = (s: string) => [...s].map((c) => c.charCodeAt(0));
const seeds = [
  pickleOf(fixture('state_dict.pt')), pickleOf(fixture('torchscript.pt')), pickleOf(fixture('malicious.pt')),
  // (1, 2**70, 1.5, 'é', b'ab', [None, True], {'k': ()}), memoised and fetched
  Uint8Array.from([0x80, 2, 0x28, 0x4b, 1, 0x8a, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0x40, 0x47, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0,
    0x58, 2, 0, 0, 0, 0xc3, 0xa9, 0x43, 2, 0x61, 0x62, 0x5d, 0x28, 0x4e, 0x88, 0x65, 0x7d, 0x8c, 1, ...ascii('k'), 0x29,
    0x73, 0x74, 0x71, 0, 0x30, 0x68, 0, 0x2e]),
];

function generate(rng: Rng): Uint8Array {
  const seed = rng.pick(seeds);
  switch (rng.int(5)) {
    case 0: case 1: return mutatePickle(seed, rng);
    case 2: return mutatePickle(mutatePickle(seed, rng), rng);
    case 3: return mutateBytes(seed, rng);
    default: return Uint8Array.of(0x80, 2, ...rng.bytes(rng.int(64)));
  }
}

t.test('pickle: malformed pickles fail as PickleError naming the file, within 1 s each', async (t) => {
  const stats = fuzz(t, {
    name: 'pickle', generate, errors: [PickleError],
    parse: (bytes, source) => unpickle(bytes, {
      source,
      resolveGlobal: (module, name) => new PickleClass(`${module}.${name}`),
      persistentLoad: (pid) => new PickleBox('pid', pid),
    }),
  }, 3, caseCount(12000));
  t.ok(stats.accepted > 0, 'some mutations still unpickle');
  t.ok(stats.rejected.get('PickleError')! > 0, 'most are refused');
});
