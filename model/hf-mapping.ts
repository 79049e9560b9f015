/**
 * Hugging Face `CLIPModel` state dict -> OpenAI CLIP keys and layouts (the table of method.md §5.4).
 *
 * Does: rename the embeddings, layer norms and MLPs; concatenate each layer's q/k/v projections into
 *   `attn.in_proj_{weight,bias}` (the row order of nn.MultiheadAttention); transpose the two
 *   projections (HF Linear weights [E, D] -> OpenAI's x @ proj with proj [D, E]). Every key that has
 *   no place in the table is an error naming it.
 * Does not: read files (checkpoint-read.ts), drop non-weights such as `position_ids` or convert dtypes
 *   (weights.ts does both before calling here: the input is float32).
 *
 * Glossary: D tower width, E embedding width.
 */
import type { RawTensor } from '../engine/io/safetensors.ts';

const HF_TOP: Readonly<Record<string, string>> = {
  'vision_model.embeddings.patch_embedding.weight': 'visual.conv1.weight',
  'vision_model.embeddings.class_embedding': 'visual.class_embedding',
  'vision_model.embeddings.position_embedding.weight': 'visual.positional_embedding',
  'vision_model.pre_layrnorm.weight': 'visual.ln_pre.weight', // sic: HF spells it "layrnorm"
  'vision_model.pre_layrnorm.bias': 'visual.ln_pre.bias',
  'vision_model.post_layernorm.weight': 'visual.ln_post.weight',
  'vision_model.post_layernorm.bias': 'visual.ln_post.bias',
  'text_model.embeddings.token_embedding.weight': 'token_embedding.weight',
  'text_model.embeddings.position_embedding.weight': 'positional_embedding',
  'text_model.final_layer_norm.weight': 'ln_final.weight',
  'text_model.final_layer_norm.bias': 'ln_final.bias',
  'logit_scale': 'logit_scale',
};
/** HF stores the projections as Linear weights [E, D]; OpenAI multiplies x @ proj with proj [D, E]. */
const HF_TRANSPOSED: Readonly<Record<string, string>> = {
  'visual_projection.weight': 'visual.proj',
  'text_projection.weight': 'text_projection',
};
/** Per-layer renames (the key after `encoder.layers.i.`). q/k/v are handled separately. */
const HF_LAYER: Readonly<Record<string, string>> = {
  'layer_norm1.weight': 'ln_1.weight', 'layer_norm1.bias': 'ln_1.bias',
  'layer_norm2.weight': 'ln_2.weight', 'layer_norm2.bias': 'ln_2.bias',
  'mlp.fc1.weight': 'mlp.c_fc.weight', 'mlp.fc1.bias': 'mlp.c_fc.bias',
  'mlp.fc2.weight': 'mlp.c_proj.weight', 'mlp.fc2.bias': 'mlp.c_proj.bias',
  'self_attn.out_proj.weight': 'attn.out_proj.weight', 'self_attn.out_proj.bias': 'attn.out_proj.bias',
};
const HF_LAYER_KEY = /^(vision_model|text_model)\.encoder\.layers\.(\d+)\.(.+)$/;
const HF_QKV = /^self_attn\.([qkv])_proj\.(weight|bias)$/;

/**
 * Rename a Hugging Face CLIPModel state dict (float32 tensors) to OpenAI's keys and layouts.
 *
 * @example
 * const openai = hfToOpenAI(parseSafetensors(bytes, 'model.safetensors').tensors);
 * openai.get('visual.transformer.resblocks.0.attn.in_proj_weight')!.shape;  // [3D, D]
 */
export function hfToOpenAI(hf: Map<string, RawTensor>, source = '<hf>'): Map<string, RawTensor> {
  const out = new Map<string, RawTensor>();
  const unexpected: string[] = [];
  // in_proj target -> the q, k, v pieces found so far
  const qkv = new Map<string, Partial<Record<'q' | 'k' | 'v', [string, RawTensor]>>>();
  for (const [key, t] of hf) {
    if (key in HF_TOP) { out.set(HF_TOP[key], t); continue; }
    if (key in HF_TRANSPOSED) { out.set(HF_TRANSPOSED[key], transpose2d(t, key, source)); continue; }
    const m = HF_LAYER_KEY.exec(key);
    if (!m) { unexpected.push(key); continue; }
    const prefix = `${m[1] === 'vision_model' ? 'visual.' : ''}transformer.resblocks.${m[2]}.`;
    const part = HF_QKV.exec(m[3]);
    if (part) {
      const target = `${prefix}attn.in_proj_${part[2]}`;
      const pieces = qkv.get(target) ?? {};
      pieces[part[1] as 'q' | 'k' | 'v'] = [key, t];
      qkv.set(target, pieces);
    } else if (m[3] in HF_LAYER) {
      out.set(prefix + HF_LAYER[m[3]], t);
    } else {
      unexpected.push(key);
    }
  }
  if (unexpected.length > 0) throw new Error(`${source}: unexpected key(s) for a Hugging Face CLIPModel: ${unexpected.join(', ')}`);
  for (const [target, pieces] of qkv) out.set(target, concatQkv(target, pieces, source));
  return out;
}

/** q, k, v stacked along dim 0, the row order of nn.MultiheadAttention's in_proj. */
function concatQkv(target: string, pieces: Partial<Record<'q' | 'k' | 'v', [string, RawTensor]>>, source: string): RawTensor {
  const missing = (['q', 'k', 'v'] as const).filter((p) => !pieces[p]);
  if (missing.length > 0) {
    const have = Object.values(pieces).map((p) => p[0]).join(', ');
    throw new Error(`${source}: ${target} needs q, k and v projections; found only ${have} (missing ${missing.map((p) => `${p}_proj`).join(', ')})`);
  }
  const [q, k, v] = (['q', 'k', 'v'] as const).map((p) => pieces[p]!);
  for (const [key, t] of [k, v]) {
    if (t.shape.join() !== q[1].shape.join()) {
      throw new Error(`${source}: ${key} has shape [${t.shape}], expected [${q[1].shape}] like ${q[0]}`);
    }
  }
  const n = q[1].data.length;
  const data = new Float32Array(3 * n);
  [q, k, v].forEach(([, t], i) => data.set(t.data as Float32Array, i * n));
  return { dtype: 'F32', shape: [3 * q[1].shape[0], ...q[1].shape.slice(1)], data };
}

function transpose2d(t: RawTensor, key: string, source: string): RawTensor {
  if (t.shape.length !== 2) throw new Error(`${source}: ${key} has shape [${t.shape}], expected a matrix [E, D]`);
  const [r, c] = t.shape;
  const src = t.data as Float32Array;
  const data = new Float32Array(r * c);
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) data[j * r + i] = src[i * c + j];
  return { dtype: 'F32', shape: [c, r], data };
}
