import { TsbuildError } from '../errors.js';
import { type Digest, isDigest } from './digest.js';

/** OCI content descriptor (image-spec descriptor.md). */
export interface Descriptor {
  mediaType: string;
  digest: Digest;
  size: number;
  urls?: string[];
  annotations?: Record<string, string>;
  data?: string;
  artifactType?: string;
  platform?: {
    architecture: string;
    os: string;
    'os.version'?: string;
    'os.features'?: string[];
    variant?: string;
  };
}

/** A digest and a size: what the content store knows about a blob without its media type. */
export interface BlobRef {
  digest: Digest;
  size: number;
}

export function isDescriptor(value: unknown): value is Descriptor {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return (
    typeof v.mediaType === 'string' &&
    isDigest(v.digest) &&
    typeof v.size === 'number' &&
    Number.isSafeInteger(v.size) &&
    v.size >= 0
  );
}

export function parseDescriptor(value: unknown): Descriptor {
  if (!isDescriptor(value)) {
    throw new TsbuildError('INVALID_DESCRIPTOR', 'invalid descriptor: needs mediaType, digest and size');
  }
  return value;
}
