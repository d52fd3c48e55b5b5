/**
 * A data map of one indexed JSON-lines store found by cookie id (case-insensitive), for the
 * identity index tests; `retention` adds a 90-day rule from LastModified.
 */
export function lakeDataMapYaml(bucket: string, options: { retention?: boolean } = {}): string {
  return `
version: 1
identityTypes:
  cookieId:
    normalise: opaque
    caseSensitive: false
stores:
  - id: clicks
    kind: s3
    bucket: ${bucket}
    locate:
      - identity: cookieId
        jsonLines: { prefix: "clicks/", field: cookieId }
    identityIndex: true
    categories: [device.cookie-id]
    purpose: Fraud detection
    lawfulBasis: legitimate-interests
    source: Collected by our ad server
    erase: { action: rewrite }
${options.retention ? '    retention:\n      period: P90D\n      from: { lastModified: true }\n' : ''}`;
}
