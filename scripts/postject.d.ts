/** The part of postject's API that scripts/build-sea.ts uses (the package ships no types). */
declare module "postject" {
  export function inject(
    file: string,
    name: string,
    data: Buffer,
    options: { sentinelFuse: string; machoSegmentName?: string; overwrite?: boolean },
  ): Promise<void>;
}
