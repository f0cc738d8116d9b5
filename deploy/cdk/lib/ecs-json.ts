// Renders the task definitions of the synthesised template as `aws ecs register-task-definition
// --cli-input-json` files (deploy/ecs/*.json), with placeholders where CloudFormation would
// fill in account, region or generated ARNs. One source: the CDK stack; these files follow it.

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Template = { Resources: Record<string, { Type: string; Properties?: Record<string, Json> }> };

/** The task definition files under deploy/ecs/ and the task family each comes from. */
export const ECS_JSON_FILES = { 'task-definition.json': 'chat-api', 'workers-task-definition.json': 'chat-workers' } as const;

/** Maps whose keys are data, not CloudFormation property names: their keys keep their case. */
const VERBATIM_KEYS = new Set(['Options', 'DockerLabels', 'SystemControls']);

export function renderEcsJson(template: Template, region: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [file, family] of Object.entries(ECS_JSON_FILES)) {
    const task = Object.values(template.Resources).find((r) => r.Type === 'AWS::ECS::TaskDefinition' && r.Properties?.Family === family);
    if (!task?.Properties) throw new Error(`no task definition with family ${family} in the template`);
    const resolved = resolve(task.Properties, template, region) as Record<string, Json>;
    const { Family, ...rest } = resolved;
    out[file] = `${JSON.stringify(camel({ Family, ...rest }), null, 2)}\n`;
  }
  // The API's target group and service, as `aws elbv2 create-target-group` /
  // `modify-target-group-attributes` and `aws ecs create-service` inputs.
  const tg = resourceOf(template, 'AWS::ElasticLoadBalancingV2::TargetGroup', (p) => p.Name === 'chat-api');
  const pick = (keys: string[]) => Object.fromEntries(keys.filter((k) => tg[k] !== undefined).map((k) => [k, tg[k]]));
  out['target-group.json'] = json({
    ...pick(['Name', 'Protocol', 'ProtocolVersion', 'Port']),
    VpcId: '<VPC_ID>',
    ...pick(['TargetType', 'HealthCheckEnabled', 'HealthCheckProtocol', 'HealthCheckPath', 'HealthCheckIntervalSeconds', 'HealthCheckTimeoutSeconds', 'HealthyThresholdCount', 'UnhealthyThresholdCount', 'Matcher']),
  });
  out['target-group-attributes.json'] = json({ TargetGroupArn: '<TARGET_GROUP_ARN>', Attributes: tg.TargetGroupAttributes });
  const svc = resourceOf(template, 'AWS::ECS::Service', (p) => p.ServiceName === 'chat-api');
  const lbs = (svc.LoadBalancers as Array<Record<string, Json>>).map((lb) => ({ targetGroupArn: '<TARGET_GROUP_ARN>', containerName: lb.ContainerName, containerPort: lb.ContainerPort }));
  const dc = svc.DeploymentConfiguration as Record<string, Record<string, Json>>;
  out['service.json'] = json({
    cluster: '<CLUSTER_NAME>',
    serviceName: svc.ServiceName,
    taskDefinition: 'chat-api',
    launchType: svc.LaunchType,
    networkConfiguration: { awsvpcConfiguration: { subnets: ['<PRIVATE_SUBNET_A>', '<PRIVATE_SUBNET_B>'], securityGroups: ['<API_SECURITY_GROUP>'], assignPublicIp: 'DISABLED' } },
    loadBalancers: lbs,
    healthCheckGracePeriodSeconds: svc.HealthCheckGracePeriodSeconds,
    deploymentConfiguration: {
      minimumHealthyPercent: dc.MinimumHealthyPercent,
      maximumPercent: dc.MaximumPercent,
      deploymentCircuitBreaker: { enable: dc.DeploymentCircuitBreaker.Enable, rollback: dc.DeploymentCircuitBreaker.Rollback },
    },
    enableExecuteCommand: svc.EnableExecuteCommand,
    propagateTags: svc.PropagateTags,
  });
  return out;
}

const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;

function resourceOf(template: Template, type: string, match: (props: Record<string, Json>) => boolean): Record<string, Json> {
  const found = Object.values(template.Resources).find((r) => r.Type === type && r.Properties && match(r.Properties));
  if (!found?.Properties) throw new Error(`no ${type} of the API in the template`);
  return found.Properties;
}

/** Replaces intrinsic functions with the value they stand for, or a <PLACEHOLDER>. */
function resolve(value: Json, template: Template, region: string): Json {
  if (Array.isArray(value)) return value.map((v) => resolve(v, template, region));
  if (typeof value === 'string') return value.split(region).join('<REGION>');
  if (value === null || typeof value !== 'object') return value;
  const [fn] = Object.keys(value);
  const arg = value[fn];
  if (fn === 'Ref') return ref(String(arg), template);
  if (fn === 'Fn::GetAtt') return `<${placeholderName(String((arg as Json[])[0]))}_ARN>`;
  if (fn === 'Fn::Join') {
    const [sep, parts] = arg as [string, Json[]];
    return parts.map((p) => String(resolve(p, template, region))).join(sep);
  }
  if (fn === 'Fn::Select') {
    const [index, list] = arg as [number, Json];
    return (resolve(list, template, region) as Json[])[index];
  }
  if (fn === 'Fn::Split') {
    const [sep, source] = arg as [string, Json];
    return String(resolve(source, template, region)).split(sep);
  }
  if (fn?.startsWith('Fn::')) throw new Error(`ecs-json: ${fn} is not handled`);
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolve(v, template, region)]));
}

function ref(target: string, template: Template): string {
  const pseudo: Record<string, string> = { 'AWS::AccountId': '<ACCOUNT_ID>', 'AWS::Region': '<REGION>', 'AWS::Partition': 'aws', 'AWS::URLSuffix': 'amazonaws.com' };
  if (pseudo[target]) return pseudo[target];
  const resource = template.Resources[target];
  const props = resource?.Properties ?? {};
  if (resource?.Type === 'AWS::SecretsManager::Secret' && typeof props.Name === 'string') return `arn:aws:secretsmanager:<REGION>:<ACCOUNT_ID>:secret:${props.Name}`;
  if (resource?.Type === 'AWS::Logs::LogGroup' && typeof props.LogGroupName === 'string') return props.LogGroupName;
  return `<${placeholderName(target)}>`;
}

/** `ServicesApiTaskExecutionRole1234ABCD` → `API_TASK_EXECUTION_ROLE` (the CDK hash and scope dropped). */
function placeholderName(logicalId: string): string {
  return logicalId
    .replace(/[0-9A-F]{8}$/, '')
    .replace(/^Services/, '')
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toUpperCase();
}

/** CloudFormation's PascalCase → the ECS API's camelCase; empty objects CDK adds are dropped. */
function camel(value: Json): Json {
  if (Array.isArray(value)) return value.map(camel);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, Json> = {};
  for (const [k, v] of Object.entries(value)) {
    if (v !== null && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 0) continue;
    out[k.charAt(0).toLowerCase() + k.slice(1)] = VERBATIM_KEYS.has(k) ? v : camel(v);
  }
  return out;
}
