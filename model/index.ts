/**
 * The model room's public API: CLIP (image and text towers), its tokenizer, checkpoint loading and
 * conversion, image preprocessing, and the pieces the SPT-SEG model builds on.
 *
 *   import { loadClip, tokenize, clipPreprocess, l2normalize, noGrad } from './model/index.ts';
 */
export { tokenize } from './tokenizer.ts';
export {
  CLIP, CLIP_VIT_B_16, VOC_TEMPLATES, COCO_TEMPLATES, inferClipConfig, parseClipConfig, l2normalize,
  type CLIPConfig, type HeadHints,
} from './clip.ts';
export { VisionTransformer, PatchConv, VIT_B_16, type ViTConfig } from './vit.ts';
export { TextEncoder, CLIP_TEXT_B, createTextParts, encodeTokens, type TextConfig, type TextParts } from './text.ts';
export { MultiheadAttention, Mlp, ResidualAttentionBlock, Transformer } from './blocks.ts';
export { bilinearMatrix, bilinearWeights, resize2d } from './interpolate.ts';
export {
  loadClip, saveClip, convertCheckpoint, readClipCheckpoint, clipFromCheckpoint, clipFromBytes, serializeClip,
  hfToOpenAI, detectContainer, detectLayout, describeConfig,
  type ClipCheckpoint, type CheckpointContainer, type CheckpointLayout, type ConvertResult,
} from './weights.ts';
export {
  clipPreprocess, imagenetNormalize, resizeImage, resizeShortSide, centerCrop, toTensor, dropAlpha,
  CLIP_MEAN, CLIP_STD, IMAGENET_MEAN, IMAGENET_STD, type RgbImage, type ResampleFilter,
} from './preprocess.ts';
