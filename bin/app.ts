#!/usr/bin/env node
/**
 * The CDK app: validated config from context → `LogLakeStack`, with cdk-nag (AWS Solutions and
 * NIST 800-53 R5) validating every synth. Nothing else lives here.
 */
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, NIST80053R5Checks } from 'cdk-nag';
import { configFromContext } from '../lib/config';
import { appContextFromNode } from '../lib/private/app-context';
import { LogLakeStack } from '../lib/stack';

const app = new App();
const config = configFromContext(app.node);
const context = appContextFromNode(app.node);
Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new NIST80053R5Checks(app));
new LogLakeStack(app, 'LogLake', {
  stackName: context.stackName,
  config,
  target: context.target,
  ...(context.account && context.region && { env: { account: context.account, region: context.region } }),
});
