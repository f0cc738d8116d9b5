// ElastiCache Redis (one primary, a replica in another AZ, TLS and AUTH) and the Secrets Manager
// secrets the tasks read at start. MONGODB_URI is Atlas's: imported by name, never written here.
import { Fn, SecretValue } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elasticache from 'aws-cdk-lib/aws-elasticache';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';

export const REDIS_PORT = 6379;

export interface DataStoresProps {
  vpc: ec2.IVpc;
  redisNodeType: string;
  mongodbUriSecretName: string;
}

export class DataStores extends Construct {
  readonly redisSecurityGroup: ec2.SecurityGroup;
  readonly redis: elasticache.CfnReplicationGroup;
  readonly replicationGroupId = 'chat-redis';
  /** `rediss://:<auth token>@<primary endpoint>:6379` (REDIS_URL). */
  readonly redisUrl: secretsmanager.Secret;
  /** One secret, three fields read together at task start (JWT_KEY_ID, JWT_SECRET, JWT_VERIFY_KEYS), so a rotation step is atomic per task. */
  readonly jwt: secretsmanager.Secret;
  readonly notifyWebhookSecret: secretsmanager.Secret;
  readonly eventsWebhookSecret: secretsmanager.Secret;
  readonly metricsToken: secretsmanager.Secret;
  readonly mongodbUri: secretsmanager.ISecret;

  constructor(scope: Construct, id: string, props: DataStoresProps) {
    super(scope, id);
    const generated = (name: string, secretName: string, description: string) =>
      new secretsmanager.Secret(this, name, {
        secretName,
        description,
        generateSecretString: { passwordLength: 64, excludePunctuation: true },
      });

    this.redisSecurityGroup = new ec2.SecurityGroup(this, 'RedisSecurityGroup', {
      vpc: props.vpc,
      description: 'Redis: reachable from the API and workers tasks only',
      allowAllOutbound: false,
    });
    const authToken = generated('RedisAuthToken', 'chat/redis-auth-token', 'ElastiCache AUTH token (part of REDIS_URL)');
    const subnets = new elasticache.CfnSubnetGroup(this, 'RedisSubnets', {
      description: 'chat Redis, private subnets',
      subnetIds: props.vpc.selectSubnets({ subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS }).subnetIds,
    });
    // Presence, rate limits, locks and job queues must never be evicted silently.
    const parameters = new elasticache.CfnParameterGroup(this, 'RedisParameters', {
      cacheParameterGroupFamily: 'redis7',
      description: 'chat: noeviction',
      properties: { 'maxmemory-policy': 'noeviction' },
    });
    const redis = (this.redis = new elasticache.CfnReplicationGroup(this, 'Redis', {
      replicationGroupId: this.replicationGroupId,
      replicationGroupDescription: 'chat: Socket.IO adapter, presence, rate limits, BullMQ queues',
      engine: 'redis',
      engineVersion: '7.1',
      cacheNodeType: props.redisNodeType,
      // Cluster mode disabled: one primary and a replica in another AZ (docs/operations.md, "Redis setup").
      numCacheClusters: 2,
      automaticFailoverEnabled: true,
      multiAzEnabled: true,
      port: REDIS_PORT,
      cacheParameterGroupName: parameters.ref,
      cacheSubnetGroupName: subnets.ref,
      securityGroupIds: [this.redisSecurityGroup.securityGroupId],
      transitEncryptionEnabled: true,
      atRestEncryptionEnabled: true,
      authToken: authToken.secretValue.unsafeUnwrap(),
      snapshotRetentionLimit: 1,
    }));

    // A dynamic reference to the token, resolved by CloudFormation: the token is never in the template.
    this.redisUrl = new secretsmanager.Secret(this, 'RedisUrl', {
      secretName: 'chat/redis-url',
      description: 'REDIS_URL for the API and workers tasks',
      secretStringValue: SecretValue.unsafePlainText(
        Fn.join('', ['rediss://:', authToken.secretValue.unsafeUnwrap(), '@', redis.attrPrimaryEndPointAddress, ':', redis.attrPrimaryEndPointPort]),
      ),
    });
    this.jwt = new secretsmanager.Secret(this, 'Jwt', {
      secretName: 'chat/jwt',
      description: 'JWT_SECRET, JWT_KEY_ID, JWT_VERIFY_KEYS (rotation: docs/operations.md)',
      generateSecretString: {
        secretStringTemplate: JSON.stringify({ JWT_KEY_ID: 'k1', JWT_VERIFY_KEYS: '{}' }),
        generateStringKey: 'JWT_SECRET',
        passwordLength: 64,
        excludePunctuation: true,
      },
    });
    this.notifyWebhookSecret = generated('NotifyWebhookSecret', 'chat/notify-webhook-secret', 'NOTIFY_WEBHOOK_SECRET: signs notification webhooks');
    this.eventsWebhookSecret = generated('EventsWebhookSecret', 'chat/events-webhook-secret', 'EVENTS_WEBHOOK_SECRET: signs integration event webhooks');
    this.metricsToken = generated('MetricsToken', 'chat/metrics-token', 'METRICS_TOKEN: bearer token of /metrics');
    this.mongodbUri = secretsmanager.Secret.fromSecretNameV2(this, 'MongodbUri', props.mongodbUriSecretName);
  }

  /** The CacheClusterIds ElastiCache gives the two nodes (their CloudWatch dimension). */
  get redisNodeIds(): string[] {
    return [`${this.replicationGroupId}-001`, `${this.replicationGroupId}-002`];
  }
}
