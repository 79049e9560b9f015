// The part of pngjs 7 that engine/io/image.ts uses (the package ships no type declarations).
declare module 'pngjs' {
  interface PngData {
    width: number;
    height: number;
    /** RGBA, 8 bits per channel, row-major. */
    data: Buffer;
  }
  interface PngSync {
    /** Decode any PNG (palette, grey, 16-bit...) to 8-bit RGBA. */
    read(buffer: Uint8Array): PngData;
    /** Encode 8-bit RGBA. */
    write(png: PngData): Buffer;
  }
  export const PNG: { sync: PngSync };
  const pngjs: { PNG: { sync: PngSync } };
  export default pngjs;
}
