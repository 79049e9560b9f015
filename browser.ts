/**
 * `spt-seg/browser`: everything that runs without Node's built-ins, for a bundler (esbuild, Vite,
 * webpack) to take into a web page: the engine (cpu, wasm and gpu.js backends), the models (CLIP, its
 * tokenizer, SPT-SEG), safetensors in memory, and the zero-shot shapes world (classes, scenes, the
 * class-name embeddings). The page (page/pipeline.ts) is built from the same pieces.
 *
 *   const clip = clipFromBytes(new Uint8Array(await (await fetch('world-clip.safetensors')).arrayBuffer()));
 *   const { tensors, metadata } = parseSafetensors(sptBytes);
 *   const { model, card } = sptSegWithCard(tensorsFromRaw(tensors, 'float32'), hintsFromMetadata(metadata, 'sptseg.safetensors'));
 *   card.input.normalization;   // how to normalise images for it (model/model-card.ts), card.classes, card.inference
 *   const r = await segmentImage(model, card, text, rgb);   // the one inference path (model/segment-image.ts): r.labels, −1 = background
 *
 * Does not: read or write files. model/'s path loaders (loadClip, loadSptSeg, saveClip, ...) are
 * exported as part of model/ but import node:fs only when called (model/node-files.ts): in a browser,
 * give bytes instead. The package's main entry (index.ts) adds the Node file and image helpers.
 * test/package/pack.test.ts bundles the built entry (dist/browser.js) for `platform: 'browser'` to keep it so.
 */
export * from './engine/index.ts';
export * from './model/index.ts';
export {
  parseSafetensors, serializeSafetensors, SafetensorsError, type ParsedSafetensors, type RawTensor, type StDType,
} from './engine/io/safetensors.ts';
export { tensorFromRaw, tensorsFromRaw, tensorToRaw } from './engine/io/tensors.ts';
export { WORLD_CLASS_NAMES, WORLD_SHAPES, DEFAULT_SPLIT, BACKGROUND, type WorldShape } from './train/world/classes.ts';
export { drawWorldScene, drawWorldScenes, sceneGenerator, WORLD_DEFAULTS, type WorldScene, type WorldSettings } from './train/world/scenes.ts';
export { imagesOf } from './train/world/batch.ts';
export { worldClassText, argmaxWithOffset } from './train/world/segment.ts';
