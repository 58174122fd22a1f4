/** Real EventBridge event shapes from `test/fixtures/events/eventbridge/`, typed with `@types/aws-lambda`. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ScheduledEvent } from 'aws-lambda';
import type { AlarmStateChangeEvent, ObjectCreatedEvent } from '../../src/alerts/pipeline';

const dir = join(__dirname, '..', 'fixtures', 'events', 'eventbridge');
const load = <T>(name: string): T => JSON.parse(readFileSync(join(dir, name), 'utf8')) as T;

export const scheduledEvent = () => load<ScheduledEvent<Record<string, never>>>('scheduled-event.json');
export const alarmFiring = () => load<AlarmStateChangeEvent>('alarm-state-change-alarm.json');
export const alarmOk = () => load<AlarmStateChangeEvent>('alarm-state-change-ok.json');
export const errorObjectCreated = () => load<ObjectCreatedEvent>('s3-object-created-error.json');
