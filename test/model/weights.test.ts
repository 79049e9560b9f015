// Checkpoint loading: bad files fail with messages that name the key and the shapes; config inference
// follows build_model; convert writes a canonical file that loads back to the same weights.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { parseSafetensors, serializeSafetensors, type RawTensor } from '../../engine/io/safetensors.ts';
import {
  CLIP_VIT_B_16, clipFromBytes, convertCheckpoint, detectContainer, inferClipConfig, loadClip, parseClipConfig,
  readClipCheckpoint,
} from '../../model/index.ts';
import { FIXTURES } from './fixtures.ts';

const dir = mkdtempSync(join(tmpdir(), 'spt-seg-weights-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

/** A fixture's tensors and metadata, edited by `edit`, serialized again. */
function edited(file: string, edit: (m: Map<string, RawTensor>) => void): Uint8Array {
  const { tensors, metadata } = parseSafetensors(readFileSync(FIXTURES + file), file);
  edit(tensors);
  return serializeSafetensors(tensors, metadata);
}

const f32 = (shape: number[]): RawTensor => ({ dtype: 'F32', shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)) });

t.test('a wrong shape is named with expected and actual shape', async (tt) => {
  const bytes = edited('openai.safetensors', (m) => m.set('visual.transformer.resblocks.1.mlp.c_fc.weight', f32([250, 64])));
  const err = (() => { try { clipFromBytes(bytes, 'bad.safetensors'); } catch (e) { return (e as Error).message; } return ''; })();
  tt.match(err, /^bad\.safetensors: checkpoint does not fit CLIP/);
  tt.match(err, 'visual.transformer.resblocks.1.mlp.c_fc.weight: expected shape [256, 64], got [250, 64]');
});

t.test('missing and unexpected keys are listed', async (tt) => {
  const bytes = edited('openai.safetensors', (m) => {
    m.delete('visual.ln_post.bias');
    m.delete('transformer.resblocks.0.attn.in_proj_bias');
    m.set('visual.extra', f32([2]));
  });
  const err = (() => { try { clipFromBytes(bytes, 'bad.safetensors'); } catch (e) { return (e as Error).message; } return ''; })();
  tt.match(err, /missing key\(s\): .*visual\.ln_post\.bias/);
  tt.match(err, /missing key\(s\): .*transformer\.resblocks\.0\.attn\.in_proj_bias/);
  tt.match(err, /unexpected key\(s\): visual\.extra/);
});

t.test('a key needed to infer the config is reported as missing', async (tt) => {
  const bytes = edited('openai.safetensors', (m) => m.delete('visual.conv1.weight'));
  tt.throws(() => readClipCheckpoint(bytes, 'x'), /cannot infer the CLIP config, missing key\(s\): visual\.conv1\.weight/);
});

t.test('Hugging Face layout errors name the HF keys', async (tt) => {
  const noK = edited('hf.safetensors', (m) => m.delete('vision_model.encoder.layers.0.self_attn.k_proj.weight'));
  tt.throws(() => readClipCheckpoint(noK, 'hf'),
    /visual\.transformer\.resblocks\.0\.attn\.in_proj_weight needs q, k and v projections; found only .*q_proj\.weight.*\(missing k_proj\)/);
  const extra = edited('hf.safetensors', (m) => m.set('vision_model.encoder.layers.0.adapter.weight', f32([2])));
  tt.throws(() => readClipCheckpoint(extra, 'hf'), /unexpected key\(s\) for a Hugging Face CLIPModel: vision_model\.encoder\.layers\.0\.adapter\.weight/);
  const badV = edited('hf.safetensors', (m) => m.set('text_model.encoder.layers.1.self_attn.v_proj.bias', f32([63])));
  tt.throws(() => readClipCheckpoint(badV, 'hf'), /text_model\.encoder\.layers\.1\.self_attn\.v_proj\.bias has shape \[63\], expected \[64\]/);
});

t.test('not a CLIP checkpoint, not a checkpoint at all, integer weights', async (tt) => {
  const other = serializeSafetensors({ 'encoder.weight': f32([2, 2]) });
  tt.throws(() => readClipCheckpoint(other, 'other.safetensors'), /other\.safetensors: not a CLIP checkpoint .*encoder\.weight/);
  tt.throws(() => readClipCheckpoint(new TextEncoder().encode('hello world, not a model'), 'junk.bin'), /junk\.bin/);
  const ints = edited('openai.safetensors', (m) => m.set('visual.proj', { dtype: 'I32', shape: [64, 32], data: new Int32Array(64 * 32) }));
  tt.throws(() => readClipCheckpoint(ints, 'x'), /visual\.proj holds I32 values; a CLIP weight must be floating point/);
  tt.equal(detectContainer(readFileSync(FIXTURES + 'openai_fp16.pt')), 'torch-zip');
  tt.equal(detectContainer(readFileSync(FIXTURES + 'hf.safetensors')), 'safetensors');
});

t.test('inferClipConfig follows build_model on ViT-B/16 shapes', async (tt) => {
  const shapes = new Map<string, number[]>([
    ['visual.conv1.weight', [768, 3, 16, 16]], ['visual.positional_embedding', [197, 768]], ['visual.proj', [768, 512]],
    ['token_embedding.weight', [49408, 512]], ['positional_embedding', [77, 512]], ['ln_final.weight', [512]],
    ['text_projection', [512, 512]],
  ]);
  for (let i = 0; i < 12; i++) {
    shapes.set(`visual.transformer.resblocks.${i}.attn.in_proj_weight`, [2304, 768]);
    shapes.set(`transformer.resblocks.${i}.attn.in_proj_weight`, [1536, 512]);
  }
  tt.same(inferClipConfig(shapes), CLIP_VIT_B_16);
  shapes.set('visual.conv1.weight', [32, 3, 16, 16]);
  tt.throws(() => inferClipConfig(shapes), /cannot infer the vision heads from width 32.*__metadata__/);
  tt.equal(inferClipConfig(shapes, { visionHeads: 4 }).vision.heads, 4);
  shapes.set('visual.layer1.0.conv1.weight', [64, 64, 1, 1]);
  tt.throws(() => inferClipConfig(shapes), /ResNet CLIP/);
  tt.throws(() => parseClipConfig('{"embedDim": 8, "vision": {}}'), /missing or invalid field\(s\) vision\.imageSize/);
});

t.test('convert: every fixture becomes the same canonical float32 file', async (tt) => {
  const canonical = parseSafetensors(readFileSync(FIXTURES + 'openai.safetensors')).tensors;
  for (const name of ['openai.safetensors', 'openai_fp32.pt', 'openai_fp16.pt', 'hf.safetensors']) {
    const out = join(dir, `${name}.converted.safetensors`);
    const result = await convertCheckpoint(FIXTURES + name, out);
    tt.equal(result.parameters, 292_417, `${name}: parameter count`);
    const { tensors, metadata } = parseSafetensors(readFileSync(out), out);
    tt.same(parseClipConfig(metadata.clip_config), result.config, `${name}: config stored in __metadata__`);
    tt.same([...tensors.keys()].sort(), [...canonical.keys()].sort(), `${name}: OpenAI keys`);
    const differing = [...tensors].filter(([k, v]) => v.dtype !== 'F32' || v.data.some((x, i) => x !== canonical.get(k)!.data[i]));
    tt.same(differing.map(([k]) => k), [], `${name}: float32 values equal to openai.safetensors`);
    const again = await loadClip(out);
    tt.equal(again.config.vision.heads, 2, `${name}: heads read back from clip_config`);
  }
});
