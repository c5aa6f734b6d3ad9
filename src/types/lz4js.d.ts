/** The part of lz4js (no published types) phi-gate uses: LZ4 frame format, as Kafka writes it. */
declare module 'lz4js' {
  /** Decompressed size of a frame, read from its header or by walking its blocks. */
  export function decompressBound(src: Uint8Array): number;
  export function decompress(src: Uint8Array, maxSize?: number): Uint8Array;
  export function compress(src: Uint8Array, maxSize?: number): Uint8Array;
  const lz4: {
    decompressBound: typeof decompressBound;
    decompress: typeof decompress;
    compress: typeof compress;
  };
  export default lz4;
}
