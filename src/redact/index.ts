/** Redaction: field-name and pattern detectors, IP anonymization, user-id pseudonyms. */
export { ibanValid, luhnValid } from './checksums';
export { anonymizeIPv4, anonymizeIPv6, type IpPolicy } from './ip';
export { type KeyClass, KeyClassifier, keyWords, type SensitiveKind } from './keys';
export { type DetectorKind, marker } from './patterns';
export { isPseudonym, PSEUDONYM_PREFIX, pseudonymizeUserId } from './pseudonym';
export { type RedactedMessage, type RedactionCounts, Redactor, type RedactorOptions } from './redactor';
