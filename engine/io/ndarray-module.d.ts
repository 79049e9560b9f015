// The part of ndarray 1.1 that spt-seg uses (the package ships no type declarations): a view of a flat
// array with a shape, strides and an offset; lo/hi/step/transpose/pick make new views without copying.
declare module 'ndarray' {
  type Data = Float32Array | Float64Array | Int32Array | Uint8Array | Uint8ClampedArray | Int8Array | Uint16Array | Int16Array | Uint32Array | number[];
  interface NdArray<D extends Data = Data> {
    data: D;
    shape: number[];
    stride: number[];
    offset: number;
    /** Number of dimensions. */
    dimension: number;
    /** Number of elements. */
    size: number;
    dtype: string;
    get(...index: number[]): number;
    set(...indexAndValue: number[]): number;
    index(...index: number[]): number;
    /** The view starting at `index` (pass null or a negative-free value per axis). */
    lo(...index: number[]): NdArray<D>;
    /** The view of the first `shape[i]` elements per axis. */
    hi(...shape: number[]): NdArray<D>;
    /** Every `step[i]`-th element; a negative step reverses that axis. */
    step(...step: number[]): NdArray<D>;
    transpose(...axes: number[]): NdArray<D>;
    /** Fix the axes given a number (null keeps an axis). */
    pick(...index: (number | null)[]): NdArray<D>;
  }
  function ndarray<D extends Data>(data: D, shape?: number[], stride?: number[], offset?: number): NdArray<D>;
  namespace ndarray {
    export type { NdArray, Data };
  }
  export default ndarray;
}
