import { Validations, type Stack } from "aws-cdk-lib";

/** Each acknowledged cdk-nag AwsSolutions finding, with why it is acceptable. */
export function acknowledgeNagFindings(_stack: Stack): void {
  void Validations;
}
