/** A dynamic route segment as text: percent-decoded once; left as is when it is not valid percent-encoding. */
export function routeParam(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
