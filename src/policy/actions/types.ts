/** What every transforming action compiles to: a scalar in, a string out, or a throw (fail closed). */
export type ActionFn = (value: unknown) => string;

/** Facts about the leaf an action is compiled for, known from the writer schema. */
export interface LeafInfo {
  /** Avro type name of the leaf (`string`, `long`, `enum`, `bytes`, …). */
  readonly avroType: string;
  /** Logical type from the writer schema JSON, when the caller supplied it. */
  readonly logicalType: string | undefined;
}
