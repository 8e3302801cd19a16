// The subscription's dead-letter queue, where SNS puts what it could not deliver in its retry window (a master
// down for longer, say). reconcile reads every message, has the gate judge each, and deletes one only once it is
// handled. The queue is provision's (issue 11, item 1); until the config knows one, there is nothing to read.
import type { AwsClientOptions } from '../aws/clients.js';
import type { Config } from '../config/types.js';

export interface DeadLetter {
  /** The queue's MessageId (the SNS MessageId is inside the body). */
  id: string;
  /** What deletes it (SQS ReceiptHandle). */
  receiptHandle: string;
  /** The SNS message as SNS would have posted it: the signed JSON envelope. */
  body: string;
  /** Epoch seconds: when SNS put it in the queue (SQS SentTimestamp). */
  sentAt: number;
}

export interface DeadLetterQueue {
  label: string;
  /** Every message now in the queue (each once). */
  receiveAll(): Promise<DeadLetter[]>;
  remove(letter: DeadLetter): Promise<void>;
}

/** The dead-letter queue provision made for this config's subscription, or undefined when there is none. */
export async function openDeadLetterQueue(
  _config: Config,
  _aws: AwsClientOptions,
): Promise<DeadLetterQueue | undefined> {
  return undefined;
}
