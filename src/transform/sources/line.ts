/**
 * Text-line formats of AWS services (VPC Flow Logs, access logs): a line shape turns one line into the
 * service's fields as an object, which the producer shapes (`../producers`) then read like any JSON
 * event. Lines no line shape takes are read as text (`../text.ts`).
 */
import type { Json, Recognized } from '../producers/shape';
import type { FlowLogFormat } from './vpc-flow';

/** What line shapes need from the settings, compiled once per settings object. */
export interface LineOptions {
  /** Custom VPC Flow Logs formats (`transform.vpcFlowLogFormats`), tried before the default one. */
  readonly vpcFlowLogFormats: readonly FlowLogFormat[];
}

export const NO_LINE_OPTIONS: LineOptions = { vpcFlowLogFormats: [] };

/** One service's line format. */
export interface LineShape {
  readonly name: string;
  /** The line's fields, or `undefined` when the line is not of this format (cheap to reject). */
  parse(line: string, options: LineOptions): Json | undefined;
  /**
   * The line read once, straight into what its producer shape would make of {@link LineShape.parse}'s
   * fields (`recognized`), or those fields when it cannot be (`object`); `undefined` as `parse`.
   * @default `parse`'s fields
   */
  read?(line: string, options: LineOptions): LineRead | undefined;
}

/** A service line as {@link LineShape.read} gives it. */
export type LineRead = { readonly object: Json } | { readonly recognized: Recognized };
