import { TsbuildError } from '../errors.js';
import type { HistoryEntry } from '../oci/index.js';
import type { Store } from '../store/index.js';
import type { LoadedImage } from './image-store.js';
import { layerDiffSizes } from './layer-diff-size.js';

/** One row of `docker history`: what dockerd's ImageHistory returns for it. */
export interface HistoryItem {
  /** The image id on the newest row; `<missing>` on the others (a built image has no parents). */
  id: string;
  /** Epoch milliseconds; Go's zero time (year 1) when the entry has none, as dockerd reports it. */
  created: number;
  createdBy: string;
  comment: string;
  /** The layer's size as dockerd's layer store records it; 0 for an empty_layer entry. */
  size: number;
}

/** time.Time{}.Unix(): what an entry without `created` is dated. */
const GO_ZERO_TIME_MS = -62_135_596_800_000;

/**
 * The image's history, newest first, as dockerd's ImageHistory builds it: each non-empty entry
 * takes the next layer, in order; more of them than layers is an error, fewer leaves the rest
 * of the layers out.
 */
export function historyItems(id: string, history: HistoryEntry[], layerSizes: number[]): HistoryItem[] {
  let layer = 0;
  const items: HistoryItem[] = [];
  for (const h of history) {
    let size = 0;
    if (!h.empty_layer) {
      if (layer >= layerSizes.length)
        throw new TsbuildError('INVALID_IMAGE', 'too many non-empty layers in History section', {
          hint: "the image's history names more layers than its rootfs has",
        });
      size = layerSizes[layer++]!;
    }
    const created = h.created ? Date.parse(h.created) : Number.NaN;
    items.unshift({
      id: '<missing>',
      created: Number.isFinite(created) ? created : GO_ZERO_TIME_MS,
      createdBy: h.created_by ?? '',
      comment: h.comment ?? '',
      size,
    });
  }
  if (items[0]) items[0].id = id;
  return items;
}

/** historyItems of a stored image, each layer's size counted once (layerDiffSizes). */
export async function imageHistory(store: Store, img: LoadedImage): Promise<HistoryItem[]> {
  const history = img.config.history ?? [];
  const used = Math.min(history.filter((h) => !h.empty_layer).length, img.manifest.layers.length);
  const sizes = await layerDiffSizes(store, img.manifest.layers.slice(0, used));
  return historyItems(img.manifest.config.digest, history, sizes);
}
