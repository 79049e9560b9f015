/**
 * The model room's public API: CLIP (image and text towers), its tokenizer, checkpoint loading and
 * conversion, image preprocessing, and the pieces the SPT-SEG model builds on.
 *
 *   import { loadClip, tokenize, clipPreprocess, l2normalize, noGrad } from './model/index.ts';
 */
export { tokenize } from './tokenizer.ts';
export {
  CLIP, CLIP_VIT_B_16, VOC_TEMPLATES, COCO_TEMPLATES, inferClipConfig, parseClipConfig, ClipConfigError, CLIP_CONFIG_LIMITS, l2normalize,
  type CLIPConfig, type HeadHints,
} from './clip.ts';
export { VisionTransformer, PatchConv, ConvStem, Conv2d, VIT_B_16, type ViTConfig } from './vit.ts';
export { TextEncoder, CLIP_TEXT_B, createTextParts, encodeTokens, type TextConfig, type TextParts } from './text.ts';
export { MultiheadAttention, Mlp, ResidualAttentionBlock, Transformer } from './blocks.ts';
export {
  loadClip, saveClip, convertCheckpoint, readClipCheckpoint, clipFromCheckpoint, clipFromBytes, serializeClip,
  detectLayout, describeConfig, type ClipCheckpoint, type CheckpointLayout, type ConvertResult,
} from './weights.ts';
export { detectContainer, readCheckpointBytes, NotACheckpointError, type CheckpointContainer, type RawCheckpoint } from './checkpoint-read.ts';
export { hfToOpenAI } from './hf-mapping.ts';
export {
  clipPreprocess, imagenetNormalize, resizeImage, resizeShortSide, centerCrop, toTensor, dropAlpha,
  CLIP_MEAN, CLIP_STD, IMAGENET_MEAN, IMAGENET_STD, type RgbImage, type ResampleFilter,
} from './preprocess.ts';
export { SptVisionTransformer, type SptConfig, type SptFeatures } from './spt.ts';
export { HiLo, type HiLoOptions } from './hilo.ts';
export { DecodeHead, DecoderLayer, CrossAttention, TpnDecoder, type DecoderOptions, type DecoderOutput } from './decoder.ts';
export {
  SptSeg, VOC_VIT_B16, VOC_CLASSES, VOC_UNSEEN_IDS, trainableParameters, freeze,
  type SptSegConfig, type SegmenterOutput, type PredictOptions, type Prediction, type FreezeOptions,
} from './segmenter.ts';
export {
  loadSptSeg, loadSptSegWithCard, sptSegFromStateDict, sptSegFromConfig, sptSegWithCard, hintsFromMetadata, inferSptSegConfig,
  loadOptionsOf, configWithOptions, SptWeightsError, type SptLoadOptions, type FileHints, type CardedSptSeg,
} from './spt-weights.ts';
export {
  CARD_KEY, CARD_FORMAT, IMAGENET_NORMALIZATION, WORLD_NORMALIZATION, OFFICIAL_INFERENCE, ModelCardError, cardMetadata, readCard,
  parseCard, completeCard, withOverrides, describeCard, describeNormalization, describeBackground, backgroundLabels, inputSizeOf,
  type SptSegCard, type CardNormalization, type BackgroundRule, type CardClasses, type CardGap, type CardOverrides, type KnownCardParts,
} from './model-card.ts';
export { classTextEmbeddings, saveTextEmbeddings, loadTextEmbeddings } from './text-embeddings.ts';
export {
  segmentImage, prepareImage, seenMaskOf, rgbFromPlanar, maskBytes, BACKGROUND_LABEL, type SegmentImageOptions, type SegmentedImage,
} from './segment-image.ts';
export { classColour, classPalette, cssColour, CLASS_COLOURS, BACKGROUND_COLOUR, type Rgb } from './palette.ts';
export {
  exportSptSeg, importSptSeg, readSptStateDict, readCardFile, checkSptStateDict, sptSegFromOfficial, serializeSptSeg, officialStateDict, StateDictError,
  type RawStateDict, type InteropReport, type InteropOptions, type ExportOptions, type SerializeOptions, type SptFileFormat, type SptContainer, type StateDictProblems,
} from './spt-interop.ts';
