/**
 * Producer recognition: a table of shapes, each recognizing one producer's JSON by its keys and
 * mapping its fields to the record's columns. What a shape leaves in `rest` still goes through the
 * generic field recognition (`fields.ts`), and every field not taken stays in `attributes`/`metrics`.
 *
 * To teach the transform a new logger, add a file here exporting a {@link ProducerShape} (or a
 * {@link BatchShape} for a document that holds many events) and list it below; nothing else changes.
 * Order matters: the first shape whose `matches` accepts an object reads it.
 */

import { accessLogLine, albAccessLog, cloudFrontAccessLog, s3AccessLog } from '../sources/access-logs';
import { awsCloudTrail, cloudTrailFile } from '../sources/cloudtrail';
import { awsEventBridge } from '../sources/eventbridge';
import type { LineOptions, LineRead, LineShape } from '../sources/line';
import { vpcFlowLine, vpcFlowLog } from '../sources/vpc-flow';
import { awsWaf } from '../sources/waf';
import { clef } from './clef';
import { dotnetJsonConsole } from './dotnet-json-console';
import { ecs } from './ecs';
import { gcp } from './gcp';
import { gelf } from './gelf';
import { lambdaJson, lambdaPlatform } from './lambda';
import { loguru } from './loguru';
import { monolog } from './monolog';
import { otlpBatch } from './otlp';
import { pinoBunyan } from './pino';
import type { BatchShape, Json, ProducerShape } from './shape';

export type { BatchShape, Columns, Json, ProducerShape, Recognized } from './shape';

/** Shapes of one event, tried in order (AWS services' first: their keys are the most specific). */
export const PRODUCER_SHAPES: readonly ProducerShape[] = [
  awsWaf,
  awsCloudTrail,
  awsEventBridge,
  vpcFlowLog,
  albAccessLog,
  cloudFrontAccessLog,
  s3AccessLog,
  loguru,
  clef,
  lambdaPlatform,
  lambdaJson,
  monolog,
  dotnetJsonConsole,
  gcp,
  ecs,
  gelf,
  pinoBunyan,
];

/**
 * Text-line formats of AWS services (`../sources/line.ts`), tried on every text line before it is read
 * as text; a line one of them takes becomes an object for the shapes above.
 */
export const LINE_SHAPES: readonly LineShape[] = [vpcFlowLine, accessLogLine];

/** Documents that hold many events (fanned out into one event each). */
export const BATCH_SHAPES: readonly BatchShape[] = [otlpBatch, cloudTrailFile];

/** The first shape that recognizes `o`, if any. */
export function recognize(o: Json): ProducerShape | undefined {
  for (const shape of PRODUCER_SHAPES) if (shape.matches(o)) return shape;
  return undefined;
}

/**
 * A service's text line, read (its fields, or what its producer shape makes of them), or `undefined`
 * when no line shape takes it.
 */
export function recognizeLine(line: string, options: LineOptions): LineRead | undefined {
  for (const shape of LINE_SHAPES) {
    if (shape.read !== undefined) {
      const read = shape.read(line, options);
      if (read !== undefined) return read;
      continue;
    }
    const object = shape.parse(line, options);
    if (object !== undefined) return { object };
  }
  return undefined;
}

/** The events of a batch document, or `undefined` when `o` is not one. */
export function expandBatch(o: Json): Json[] | undefined {
  for (const shape of BATCH_SHAPES) if (shape.matches(o)) return shape.expand(o);
  return undefined;
}
