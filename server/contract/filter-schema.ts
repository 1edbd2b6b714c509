import { z } from "zod";
import { ATTRIBUTE_FIELDS, FILTER_LIMITS, parseFilter, type Filter } from "./filter";

/**
 * The filter language at the API boundary: `filterInput` parses the text of `?filter=` (filter.ts) and validates
 * the syntax tree it yields with `FilterAst`, so what reaches SQL generation (server/history/filter-sql.ts) is a
 * checked tree of bounded size, never text. A syntax error is a 400 naming the character where it is.
 */

const value = z.string().max(FILTER_LIMITS.valueLength).regex(/^[^\u0000]*$/, "must not contain NUL (U+0000)");
const path = z.array(z.union([z.string().min(1).max(FILTER_LIMITS.valueLength), z.number().int().min(0)])).max(FILTER_LIMITS.pathSegments);
const equality = z.enum(["=", "!="]);
const order = z.enum(["<", "<=", ">", ">="]);

/** A broker sequence: decimal digits, at most 2^63 − 1 (a bigint). */
export const sequenceText = z
  .string()
  .regex(/^\d{1,19}$/, "must be a whole number written in decimal digits")
  // Zod runs every check even after one failed: the refine tests the digits itself before BigInt() reads them.
  .refine((v) => /^\d{1,19}$/.test(v) && BigInt(v) <= 9223372036854775807n, "must be at most 9223372036854775807");

export const FilterTermSchema = z.discriminatedUnion("kind", [
  z.strictObject({ kind: z.literal("attribute"), field: z.enum(ATTRIBUTE_FIELDS), op: equality, value, prefix: z.boolean() }),
  z.strictObject({
    kind: z.literal("sequence"),
    op: z.union([equality, order]),
    value: sequenceText,
  }),
  z.strictObject({
    kind: z.literal("data"),
    path,
    op: equality,
    value: z.union([value, z.number().refine(Number.isFinite), z.boolean(), z.null()]),
    prefix: z.boolean(),
  }).refine((t) => !t.prefix || typeof t.value === "string", "a prefix is a string"),
  z.strictObject({ kind: z.literal("dataNumber"), path, op: order, value: z.number().refine(Number.isFinite) }),
  z.strictObject({ kind: z.literal("text"), value: value.min(1) }),
]);

export const FilterAst = z.strictObject({ terms: z.array(FilterTermSchema).max(FILTER_LIMITS.terms) });

/** `?filter=` text → a validated Filter. */
export const filterInput = z
  .string()
  .max(FILTER_LIMITS.textLength, `has at most ${FILTER_LIMITS.textLength} characters`)
  .transform((text, ctx): Filter => {
    const parsed = parseFilter(text);
    if (parsed.ok) return parsed.filter;
    ctx.addIssue({ code: "custom", message: `${parsed.error} (at character ${parsed.offset + 1})` });
    return z.NEVER;
  })
  .pipe(FilterAst)
  .describe(
    'The history filter language (docs/history.md): terms joined by AND, e.g. `type = order.* data.customer = "c-42" data.total > 100`',
  );
