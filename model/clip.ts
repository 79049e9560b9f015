/**
 * CLIP (Radford et al. 2021): a ViT image tower and a causal text transformer mapping into one
 * embedding space, after OpenAI `clip/model.py` (class CLIP, build_model) and method.md §5-§6.
 *
 * Does: hold the parameters under OpenAI's checkpoint keys (`visual.*` for the image tower; the text
 *   tower's parts and `logit_scale` at the top level); encode images, token ids and prompt
 *   ensembles; image-text logits; infer a `CLIPConfig` from checkpoint shapes the way build_model does.
 * Does not: read files (weights.ts), preprocess pixels (preprocess.ts), or tokenize (tokenizer.ts,
 *   called by `encodeTextPrompts`).
 *
 * Glossary: B images, T texts, C classes, K templates, E embedding width, D tower width.
 */
import { normalize, stack, tensor, type Tensor } from '../engine/index.ts';
import { Embedding, LayerNorm, Module, Parameter } from '../engine/nn/index.ts';
import type { Transformer } from './blocks.ts';
import { CLIP_TEXT_B, createTextParts, encodeTokens, type TextConfig, type TextParts } from './text.ts';
import { tokenize } from './tokenizer.ts';
import { VIT_B_16, VisionTransformer, type ViTConfig } from './vit.ts';

/** The shape of a CLIP: the two towers and the joint embedding width (`CLIP_VIT_B_16` is the preset). */
export interface CLIPConfig {
  /** Width E of the joint embedding space (512); equals vision.outputDim and text.outputDim. */
  embedDim: number;
  /** The image tower. */
  vision: ViTConfig;
  /** The text tower. */
  text: TextConfig;
}

/** OpenAI CLIP ViT-B/16. */
export const CLIP_VIT_B_16: CLIPConfig = { embedDim: 512, vision: VIT_B_16, text: CLIP_TEXT_B };

/** The single prompt of ZegCLIP/SPT's VOC text embeddings (voc12_single.npy): no final period (method.md §6.3). */
export const VOC_TEMPLATES: readonly string[] = ['a photo of a {}'];

/** The 15-prompt ensemble of ZegCLIP/SPT's COCO-Stuff text embeddings (coco_multi.npy, method.md §6.3). */
export const COCO_TEMPLATES: readonly string[] = [
  'a photo of a {}.', 'a photo of a small {}.', 'a photo of a medium {}.', 'a photo of a large {}.',
  'This is a photo of a {}.', 'This is a photo of a small {}.', 'This is a photo of a medium {}.',
  'This is a photo of a large {}.', 'a {} in the scene.', 'a photo of a {} in the scene.',
  'There is a {} in the scene.', 'There is the {} in the scene.', 'This is a {} in the scene.',
  'This is the {} in the scene.', 'This is one {} in the scene.',
];

/**
 * x / ‖x‖ along `dim` (default -1), as CLIP's `x / x.norm(dim=-1, keepdim=True)`: engine `normalize`,
 * whose eps = 1e-12 only matters for an all-zero vector.
 *
 * @example
 * l2normalize(clip.encodeImage(images));   // [B, E], each row of norm 1
 */
export function l2normalize(x: Tensor, dim = -1): Tensor {
  return normalize(x, { dim });
}

/**
 * OpenAI's CLIP (ViT image tower + text transformer), parameters named as the checkpoint's keys, so loading
 * is a name map (weights.ts).
 *
 * @example
 * const clip = await loadClip('ViT-B-16.pt');
 * const logits = noGrad(() => clip.logits(clipPreprocess(img), tokenize(['a dog', 'a cat'])));   // [1, 2]
 */
export class CLIP extends Module implements TextParts {
  visual: VisionTransformer;
  token_embedding: Embedding;
  positional_embedding: Parameter; // [L, D]
  transformer: Transformer;
  ln_final: LayerNorm;
  text_projection: Parameter; // [D, E]
  /** log of the softmax temperature's inverse; init log(1/0.07), ≈ log 100 after training. Shape []. */
  logit_scale: Parameter;

  constructor(readonly config: CLIPConfig) {
    super();
    checkConfig(config);
    this.visual = new VisionTransformer(config.vision);
    const text = createTextParts(config.text);
    this.token_embedding = text.token_embedding;
    this.positional_embedding = text.positional_embedding;
    this.transformer = text.transformer;
    this.ln_final = text.ln_final;
    this.text_projection = text.text_projection;
    this.logit_scale = new Parameter(tensor(Math.log(1 / 0.07)));
  }

  /** images [B, 3, H, W] (CLIP-normalised) -> image features [B, E], not normalised. */
  encodeImage(images: Tensor): Tensor {
    return this.visual.forward(images); // [B, E]
  }

  /** Token ids [T, L] (rows of `tokenize`) -> text features [T, E], not normalised. */
  encodeText(tokens: number[][] | Tensor): Tensor {
    return encodeTokens(this, this.config.text, tokens); // [T, E]
  }

  /**
   * One embedding per class from a prompt ensemble (method.md §6.3): for each template, fill in
   * every class name, encode, L2-normalise; average over templates; L2-normalise again.
   * Templates mark the class name with `{}`. Returns [C, E], unit rows.
   *
   *   clip.encodeTextPrompts(['cat', 'dog'], COCO_TEMPLATES)   // [2, 512]
   */
  encodeTextPrompts(classNames: readonly string[], templates: readonly string[] = ['a photo of a {}.']): Tensor {
    if (classNames.length === 0) throw new Error('encodeTextPrompts: no class names');
    if (templates.length === 0) throw new Error('encodeTextPrompts: no templates');
    const perTemplate = templates.map((template) => {
      if (!template.includes('{}')) throw new Error(`encodeTextPrompts: template ${JSON.stringify(template)} has no {} for the class name`);
      const texts = classNames.map((c) => template.replaceAll('{}', c));
      return l2normalize(this.encodeText(tokenize(texts, this.config.text.contextLength))); // [C, E]
    });
    return l2normalize(stack(perTemplate, 0).mean(0)); // [C, E]
  }

  /**
   * CLIP.forward's logits_per_image: exp(logit_scale) · cos(image_i, text_j), [B, T].
   * (logits_per_text is its transpose.) `texts` are token ids or precomputed features [T, E].
   */
  logits(images: Tensor, texts: number[][] | Tensor): Tensor {
    const img = l2normalize(this.encodeImage(images)); // [B, E]
    const isFeatures = !Array.isArray(texts) && texts.dtype !== 'int32';
    const txt = l2normalize(isFeatures ? texts : this.encodeText(texts)); // [T, E]
    return img.matmul(txt.t()).mul(this.logit_scale.exp()); // [B, T]
  }
}

function checkConfig(c: CLIPConfig): void {
  if (c.vision.outputDim !== c.embedDim || c.text.outputDim !== c.embedDim) {
    throw new Error(`CLIPConfig: vision.outputDim ${c.vision.outputDim} and text.outputDim ${c.text.outputDim} must equal embedDim ${c.embedDim}`);
  }
}

/** Optional head counts for models whose width is not a multiple of 64 (tiny test models). */
export interface HeadHints {
  visionHeads?: number;
  textHeads?: number;
}

/**
 * The config of a checkpoint from its tensor shapes (OpenAI key names), as build_model does:
 * widths from conv1 / ln_final, layers by counting resblocks, patch from conv1's kernel, grid from
 * the positional table's rows (1 + g²), image size = patch · g, context and vocabulary from the text
 * tables, heads = width / 64 unless `hints` say otherwise.
 *
 * @example
 * const config = inferClipConfig(new Map([...stateDict].map(([k, t]) => [k, t.shape])));
 */
export function inferClipConfig(shapes: ReadonlyMap<string, readonly number[]>, hints: HeadHints = {}): CLIPConfig {
  if (shapes.has('visual.layer1.0.conv1.weight') || shapes.has('visual.attnpool.positional_embedding')) {
    throw new Error('inferClipConfig: this is a ResNet CLIP (RN50, RN101, ...); only ViT image towers are supported');
  }
  const required = ['visual.conv1.weight', 'visual.positional_embedding', 'visual.proj', 'token_embedding.weight',
    'positional_embedding', 'ln_final.weight', 'text_projection'];
  const missing = required.filter((k) => !shapes.has(k));
  if (missing.length > 0) throw new Error(`inferClipConfig: cannot infer the CLIP config, missing key(s): ${missing.join(', ')}`);
  const get = (k: string) => shapes.get(k)!;
  const countLayers = (prefix: string) => {
    const re = new RegExp(`^${prefix.replaceAll('.', '\\.')}(\\d+)\\.`);
    const idx = [...shapes.keys()].map((k) => re.exec(k)).filter((m) => m !== null).map((m) => Number(m![1]));
    return idx.length === 0 ? 0 : Math.max(...idx) + 1;
  };
  const [vWidth, , patch] = get('visual.conv1.weight');
  const grid = Math.round(Math.sqrt(get('visual.positional_embedding')[0] - 1));
  if (grid * grid + 1 !== get('visual.positional_embedding')[0]) {
    throw new Error(`inferClipConfig: visual.positional_embedding has ${get('visual.positional_embedding')[0]} rows, not 1 + a square grid`);
  }
  const embedDim = get('text_projection')[1];
  const tWidth = get('ln_final.weight')[0];
  const heads = (width: number, hint: number | undefined, tower: string) => {
    const h = hint ?? width / 64;
    if (!Number.isInteger(h) || h < 1) {
      throw new Error(`inferClipConfig: cannot infer the ${tower} heads from width ${width} (CLIP uses width / 64); ` +
        `give them in the safetensors __metadata__ ("clip_config" or "${tower}_heads")`);
    }
    return h;
  };
  return {
    embedDim,
    vision: {
      imageSize: patch * grid, patchSize: patch, width: vWidth, layers: countLayers('visual.transformer.resblocks.'),
      heads: heads(vWidth, hints.visionHeads, 'vision'), outputDim: get('visual.proj')[1],
    },
    text: {
      contextLength: get('positional_embedding')[0], vocabSize: get('token_embedding.weight')[0], width: tWidth,
      layers: countLayers('transformer.resblocks.'), heads: heads(tWidth, hints.textHeads, 'text'), outputDim: embedDim,
    },
  };
}

/**
 * A CLIP config (JSON) that cannot be used; the message names where it came from.
 *
 * @example
 * try { parseClipConfig(json, source); } catch (e) { if (e instanceof ClipConfigError) console.error(e.message); }
 */
export class ClipConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ClipConfigError';
  }
}

/**
 * Bounds on a parsed config, so a hostile file cannot ask for an absurd model: every size at most
 * `maxSize`, and per tower roughly 12·layers·width² + (embedding rows)·width parameters at most
 * `maxParameters` (ViT-bigG/14 has ~1.8e9 in its image tower).
 */
export const CLIP_CONFIG_LIMITS = { maxSize: 1 << 20, maxParameters: 2 ** 32 } as const;

const VISION_KEYS = ['imageSize', 'patchSize', 'width', 'layers', 'heads', 'outputDim'] as const;
const TEXT_KEYS = ['contextLength', 'vocabSize', 'width', 'layers', 'heads', 'outputDim'] as const;

/** The optional conv-stem fields of a vision config (model/vit.ts), checked; {} for CLIP's patch stem. */
function stemOf(v: { stem?: unknown; stemWidths?: unknown }, source: string): Pick<CLIPConfig['vision'], 'stem' | 'stemWidths'> {
  if (v.stem === undefined || v.stem === 'patch') return v.stem === 'patch' ? { stem: 'patch' } : {};
  if (v.stem !== 'conv') throw new ClipConfigError(`${source}: vision.stem must be "patch" or "conv", got ${JSON.stringify(v.stem)}`);
  const w = v.stemWidths;
  if (!Array.isArray(w) || w.length > 8 || !w.every((x) => Number.isInteger(x) && x >= 1 && x <= CLIP_CONFIG_LIMITS.maxSize)) {
    throw new ClipConfigError(`${source}: vision.stemWidths must be up to 8 positive integers, got ${JSON.stringify(w)}`);
  }
  return { stem: 'conv', stemWidths: [...(w as number[])] };
}

/**
 * Parse and check a config stored as JSON (the `clip_config` entry of our safetensors metadata).
 * `source` (the file, say `model.safetensors: __metadata__.clip_config`) names it in errors.
 *
 * @example
 * parseClipConfig(JSON.stringify(CLIP_VIT_B_16));   // a checked CLIPConfig
 */
export function parseClipConfig(json: string, source = 'clip_config'): CLIPConfig {
  let c: CLIPConfig;
  try {
    c = JSON.parse(json) as CLIPConfig;
  } catch (err) {
    throw new ClipConfigError(`${source}: not valid JSON (${(err as Error).message})`);
  }
  const fields: [string, unknown][] = [
    ['embedDim', c?.embedDim],
    ...VISION_KEYS.map((k): [string, unknown] => [`vision.${k}`, c?.vision?.[k]]),
    ...TEXT_KEYS.map((k): [string, unknown] => [`text.${k}`, c?.text?.[k]]),
  ];
  const bad = fields.filter(([, v]) => !Number.isInteger(v) || (v as number) < 1 || (v as number) > CLIP_CONFIG_LIMITS.maxSize).map(([k]) => k);
  const shown = json.length > 300 ? `${json.slice(0, 300)}...` : json;
  if (bad.length > 0) throw new ClipConfigError(`${source}: missing or invalid field(s) ${bad.join(', ')} in ${shown}`);
  const { vision: v, text: t } = c;
  const towers: [string, number][] = [ // blocks + embedding tables, per tower
    ['vision', 12 * v.layers * v.width ** 2 + ((v.imageSize / v.patchSize) ** 2 + 3 * v.patchSize ** 2) * v.width],
    ['text', 12 * t.layers * t.width ** 2 + (t.vocabSize + t.contextLength) * t.width],
  ];
  for (const [tower, params] of towers) {
    if (params > CLIP_CONFIG_LIMITS.maxParameters) {
      throw new ClipConfigError(`${source}: the ${tower} tower would have ~${params.toExponential(2)} parameters, more than the limit of ${CLIP_CONFIG_LIMITS.maxParameters}`);
    }
  }
  for (const [tower, w, h] of [['vision', v.width, v.heads], ['text', t.width, t.heads]] as const) {
    if (w % h !== 0) throw new ClipConfigError(`${source}: ${tower}.heads ${h} does not divide ${tower}.width ${w}`);
  }
  // A fresh object of the known fields only: nothing else in the JSON travels on.
  const pick = <K extends string>(o: Record<K, number>, keys: readonly K[]) => Object.fromEntries(keys.map((k) => [k, o[k]])) as Record<K, number>;
  const config: CLIPConfig = {
    embedDim: c.embedDim,
    vision: { ...pick(v, VISION_KEYS), ...stemOf(v, source) },
    text: pick(t, TEXT_KEYS),
  };
  try {
    checkConfig(config);
  } catch (err) {
    throw new ClipConfigError(`${source}: ${(err as Error).message}`);
  }
  return config;
}
