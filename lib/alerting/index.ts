export * from './alerting';
