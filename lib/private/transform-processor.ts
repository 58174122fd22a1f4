import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as firehose from 'aws-cdk-lib/aws-kinesisfirehose';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type { Construct } from 'constructs';

export interface TransformProcessorOptions {
  readonly bufferSizeMiB: number;
  readonly bufferIntervalSeconds: number;
}

/**
 * A Lambda processor rendering its buffer size in MB as given: Firehose accepts fractions
 * (0.2 to 3 MB), which `LambdaFunctionProcessor`'s `Size` cannot express.
 */
export class TransformProcessor implements firehose.IDataProcessor {
  readonly props: firehose.DataProcessorProps = {};

  constructor(
    private readonly fn: lambda.IFunction,
    private readonly options: TransformProcessorOptions,
  ) {}

  bind(_scope: Construct, options: firehose.DataProcessorBindOptions): firehose.DataProcessorConfig {
    this.fn.grantInvoke(options.role as iam.IGrantable);
    return {
      processorType: 'Lambda',
      processorIdentifier: { parameterName: 'LambdaArn', parameterValue: this.fn.functionArn },
      parameters: [
        { parameterName: 'LambdaArn', parameterValue: this.fn.functionArn },
        { parameterName: 'RoleArn', parameterValue: options.role.roleArn },
        { parameterName: 'BufferSizeInMBs', parameterValue: String(this.options.bufferSizeMiB) },
        {
          parameterName: 'BufferIntervalInSeconds',
          parameterValue: String(this.options.bufferIntervalSeconds),
        },
        { parameterName: 'NumberOfRetries', parameterValue: '3' },
      ],
    };
  }
}
