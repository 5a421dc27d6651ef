/**
 * cdk-nag's rule that a Lambda Function URL requires IAM auth (`LambdaFunctionUrlAuth`), which none
 * of its packs applies: registered beside AwsSolutions in `app.ts`, so that a URL open to the
 * Internet fails synth unless its construct acknowledges the finding with a reason (the webhook
 * receiver's: Kombo signs every request's body, and the handler checks it).
 */
import type { CfnResource } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import { NagMessageLevel, NagPack, rules } from 'cdk-nag';

export class FunctionUrlChecks extends NagPack {
  readonly name = 'FunctionUrl';

  constructor(scope?: IConstruct) {
    super(scope);
    this.packName = 'FunctionUrl';
  }

  protected checkResource(node: CfnResource): void {
    this.applyRule({
      info: 'The Lambda Function URL does not require IAM authentication.',
      explanation: 'Anyone who knows the URL can invoke the function; the function must then authenticate each request itself.',
      level: NagMessageLevel.ERROR,
      rule: rules.lambda.LambdaFunctionUrlAuth,
      node,
    });
  }
}
