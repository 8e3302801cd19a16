// The subscription's dead-letter queue (provision makes it: `<topic>-dlq`), where SNS puts what it could not
// deliver within its retry window, a master down for longer, say. reconcile reads every message, has the gate
// judge each, and deletes one only once it is handled. Reading makes a message invisible to other readers for
// VISIBILITY_SECONDS (SQS's way): a second run started meanwhile, or right after a dry run, sees it after that.
import { type AwsClientOptions, call, retryConfig } from '../aws/clients.js';
import { dlqNameFor } from '../aws/desired.js';
import { AwsCallError } from '../aws/errors.js';
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
  /** Every message now in the queue (each once; at most MAX_LETTERS a run). */
  receiveAll(): Promise<DeadLetter[]>;
  remove(letter: DeadLetter): Promise<void>;
}

const VISIBILITY_SECONDS = 120;
/** At most this many messages a run (memory stays bounded; the next run takes the rest). */
const MAX_LETTERS = 1000;

/** The dead-letter queue provision made for this config's topic, or undefined when there is none (yet). */
export async function openDeadLetterQueue(
  config: Config,
  aws: AwsClientOptions,
  env: NodeJS.ProcessEnv = process.env,
): Promise<DeadLetterQueue | undefined> {
  const [sqsSdk, retry, transport] = await Promise.all([
    import('@aws-sdk/client-sqs'),
    retryConfig(env),
    import('../aws/transport.js'),
  ]);
  const client = new sqsSdk.SQSClient({
    region: aws.region,
    ...(aws.profile ? { profile: aws.profile } : {}),
    ...(aws.endpointUrl ? { endpoint: aws.endpointUrl } : {}),
    requestHandler: transport.requestHandlerConfig(aws.timeoutMs ?? transport.resolveTimeoutMs(undefined, env), env),
    ...retry,
  });
  const name = dlqNameFor(config.sns.topic_name);
  let url: string;
  try {
    const out = await call('sqs:GetQueueUrl', name, () =>
      client.send(new sqsSdk.GetQueueUrlCommand({ QueueName: name })),
    );
    url = out.QueueUrl ?? '';
  } catch (err) {
    if (err instanceof AwsCallError && (err.sdkError as { name?: string })?.name === 'QueueDoesNotExist')
      return undefined;
    throw err;
  }
  return {
    label: name,
    async receiveAll() {
      const letters = new Map<string, DeadLetter>();
      while (letters.size < MAX_LETTERS) {
        const out = await call('sqs:ReceiveMessage', url, () =>
          client.send(
            new sqsSdk.ReceiveMessageCommand({
              QueueUrl: url,
              MaxNumberOfMessages: 10,
              VisibilityTimeout: VISIBILITY_SECONDS,
              MessageSystemAttributeNames: ['SentTimestamp'],
            }),
          ),
        );
        const fresh = (out.Messages ?? []).filter((m) => m.MessageId && !letters.has(m.MessageId));
        if (fresh.length === 0) break;
        for (const m of fresh)
          letters.set(m.MessageId!, {
            id: m.MessageId!,
            receiptHandle: m.ReceiptHandle ?? '',
            body: m.Body ?? '',
            sentAt: Number(m.Attributes?.SentTimestamp ?? Date.now()) / 1000,
          });
      }
      return [...letters.values()];
    },
    async remove(letter) {
      await call('sqs:DeleteMessage', url, () =>
        client.send(new sqsSdk.DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: letter.receiptHandle })),
      );
    },
  };
}
