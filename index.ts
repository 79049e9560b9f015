/**
 * The package's main entry, `import … from 'spt-seg'` (Node 20.16+): load the world models shipped in
 * the package (or any CLIP / SPT-SEG checkpoint) and segment images. See the README, "Use it from your code".
 *
 *   const clip = await loadClip(packagedAsset('world-clip.safetensors'));
 *   const { model, card } = await loadSptSegWithCard(packagedAsset('world-sptseg.safetensors'));
 *   const text = classTextEmbeddings(clip, card.classes.names, card.text.templates);   // [C, E]
 *   const { labels } = await segmentImage(model, card, text, toRgb(await readImage('scene.png')));   // [H·W], −1 = background
 *
 * `segmentImage` (model/segment-image.ts) is the one inference path: `spt-seg segment`, `spt-seg eval`
 * and the web page call it too, so the same image gives the same mask in each.
 *
 * Everything in `spt-seg/browser` (the engine, the models, the world), plus what needs Node: image
 * files (PNG / JPEG), safetensors files, world scenes as RGB bytes, and the package's asset paths.
 * Subpaths: spt-seg/engine, spt-seg/engine/nn, spt-seg/engine/optim, spt-seg/model, spt-seg/train.
 */
export * from './browser.ts';
export {
  readImage, decodeImage, toRgb, writePng, encodePng, encodeJpeg, sniffImageFormat,
  readLabelPng, decodeLabelPng, writeLabelPng, encodeLabelPng, vocPalette,
  type DecodedImage, type LabelMap, type ImageFormat,
} from './engine/io/image.ts';
export { loadSafetensors, saveSafetensors, readSafetensorsFile, writeSafetensorsFile, writeFileAtomic } from './engine/io/files.ts';
export { sceneRgb } from './train/world/export.ts';
export { packageRoot, packagedAsset } from './cli/assets.ts';
