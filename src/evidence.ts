/** A piece of evidence for the report: what was applied, or what the data plane was served. */
export interface Evidence {
  name: string;
  contentType: string;
  body: string;
}
