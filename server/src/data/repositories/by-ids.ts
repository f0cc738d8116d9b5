// Reads documents by a list of _ids in the form the database serves from its _id index:
// one `$in` on MongoDB; on the embedded database (FerretDB), which pushes only single-key
// `_id` equality down to an index and scans the whole collection for `$in`, one lookup per id.
import type { Model } from 'mongoose';

export interface LookupOptions {
  /** True where `$in` on `_id` scans (FerretDB): read one `_id` at a time instead. */
  pointLookups: boolean;
}

/** The documents that exist among `ids`, in no particular order. */
export async function findByIds<T>(model: Model<T>, ids: string[], opts: LookupOptions): Promise<T[]> {
  const unique = [...new Set(ids)];
  if (unique.length === 0) return [];
  if (!opts.pointLookups) return model.find({ _id: { $in: unique } }).lean<T[]>().exec();
  const found = await Promise.all(unique.map((id) => model.findById(id).lean<T>().exec()));
  return found.filter((d): d is NonNullable<typeof d> => d !== null) as T[];
}
