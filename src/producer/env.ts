/**
 * The AWS SDK warns on Node 20 that its versions published after January 2027 need Node 22. The SDK's
 * documented switch turns it off (aws/aws-sdk-js-v3#7983); it is read when the first client is built.
 * Only for processes and threads loglake owns (the CLI, the pino transport's worker thread): a user's
 * own process keeps the warning, which is about the runtime they chose.
 */
export function quietSdkNodeVersionWarning(): void {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
}
