/** The line shapes' options from the transform settings, compiled once per settings object. */
import type { LogLakeConfig } from '../../config';
import type { LineOptions } from './line';
import { type FlowLogFormat, parseFlowLogFormat } from './vpc-flow';

export function lineOptionsOf(transform: Pick<LogLakeConfig['transform'], 'vpcFlowLogFormats'>): LineOptions {
  const formats = (transform.vpcFlowLogFormats ?? [])
    .map(parseFlowLogFormat)
    .filter((f): f is FlowLogFormat => f !== undefined);
  return { vpcFlowLogFormats: formats };
}
