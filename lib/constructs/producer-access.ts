import { AccountPrincipal, ManagedPolicy, PolicyStatement } from "aws-cdk-lib/aws-iam";
import type { IQueue } from "aws-cdk-lib/aws-sqs";
import { Construct } from "constructs";

export interface ProducerAccessProps {
  /** The queues producers send fiscal events to (the events queue and the ordered, FIFO one). */
  readonly queues: readonly IQueue[];
  /**
   * Other AWS accounts whose principals may send events (each still needs `sqs:SendMessage`
   * on the queue in its own IAM).
   * @default none: only principals of this account with the producer policy
   */
  readonly producerAccountIds?: readonly string[];
}

/**
 * What a producer needs to send events, and nothing more: a managed policy with
 * `sqs:SendMessage` on the events queues (SSE-SQS needs no KMS grant), and a queue policy
 * statement for producers in other accounts.
 */
export class ProducerAccess extends Construct {
  readonly policy: ManagedPolicy;

  constructor(scope: Construct, id: string, props: ProducerAccessProps) {
    super(scope, id);
    this.policy = new ManagedPolicy(this, "Policy", {
      description: "Lets a producer send fiscal events to the Fiscal Webhooks events queue",
      statements: [new PolicyStatement({ actions: ["sqs:SendMessage"], resources: props.queues.map((queue) => queue.queueArn) })],
    });
    const accounts = props.producerAccountIds ?? [];
    for (const account of accounts) {
      if (!/^\d{12}$/.test(account)) throw new RangeError(`producerAccountIds: "${account}" is not a 12-digit AWS account id`);
    }
    if (accounts.length > 0) {
      for (const queue of props.queues) {
        queue.addToResourcePolicy(
          new PolicyStatement({
            sid: "ProducerAccounts",
            actions: ["sqs:SendMessage"],
            principals: accounts.map((account) => new AccountPrincipal(account)),
            resources: [queue.queueArn],
          }),
        );
      }
    }
  }
}
