// The two ECS Fargate services from one image: the API behind the ALB, and the workers.
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { API_TASK, WORKER_TASK } from './capacity';
import { DataStores, REDIS_PORT } from './data-stores';
import * as t from './timing';

export interface ServicesProps {
  vpc: ec2.IVpc;
  stores: DataStores;
  imageRepositoryName: string;
  imageTag: string;
  /** HTTPS listener when set; plain HTTP on 80 otherwise (a test stack). */
  certificateArn?: string;
  corsOrigins: string;
  notifyWebhookUrl?: string;
  eventsWebhookUrl?: string;
}

/** Settings both roles share; names are config.ts's (a test checks them). */
function commonEnvironment(props: ServicesProps, service: string): Record<string, string> {
  return {
    NODE_ENV: 'production',
    LOG_LEVEL: 'info',
    SHUTDOWN_GRACE_MS: String(t.SHUTDOWN_GRACE_MS),
    PRESENCE_GRACE_MS: '5000',
    PRESENCE_HEARTBEAT_MS: '5000',
    PRESENCE_NODE_TTL_MS: '15000',
    QUEUE_PREFIX: 'chat-jobs',
    METRICS_EMF_INTERVAL_MS: String(t.EMF_INTERVAL_MS),
    METRICS_EMF_NAMESPACE: 'Chat',
    METRICS_EMF_SERVICE: service,
    ...(props.notifyWebhookUrl ? { NOTIFY_WEBHOOK_URL: props.notifyWebhookUrl } : {}),
    ...(props.eventsWebhookUrl ? { EVENTS_WEBHOOK_URL: props.eventsWebhookUrl } : {}),
  };
}

function commonSecrets(stores: DataStores): Record<string, ecs.Secret> {
  return {
    MONGODB_URI: ecs.Secret.fromSecretsManager(stores.mongodbUri),
    REDIS_URL: ecs.Secret.fromSecretsManager(stores.redisUrl),
    JWT_SECRET: ecs.Secret.fromSecretsManager(stores.jwt, 'JWT_SECRET'),
    JWT_KEY_ID: ecs.Secret.fromSecretsManager(stores.jwt, 'JWT_KEY_ID'),
    JWT_VERIFY_KEYS: ecs.Secret.fromSecretsManager(stores.jwt, 'JWT_VERIFY_KEYS'),
    METRICS_TOKEN: ecs.Secret.fromSecretsManager(stores.metricsToken),
  };
}

/** `node -e` probe used by the container health check (the image's HEALTHCHECK does the same). */
const probe = (port: number) => `fetch('http://127.0.0.1:${port}/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))`;

export class ChatServices extends Construct {
  readonly cluster: ecs.Cluster;
  readonly alb: elbv2.ApplicationLoadBalancer;
  readonly targetGroup: elbv2.ApplicationTargetGroup;
  readonly api: ecs.FargateService;
  readonly workers: ecs.FargateService;
  readonly apiTask: ecs.FargateTaskDefinition;
  readonly workersTask: ecs.FargateTaskDefinition;
  readonly albSecurityGroup: ec2.SecurityGroup;
  readonly accessLogBucket: s3.Bucket;

  constructor(scope: Construct, id: string, props: ServicesProps) {
    super(scope, id);
    const { vpc, stores } = props;
    this.cluster = new ecs.Cluster(this, 'Cluster', { vpc, containerInsightsV2: ecs.ContainerInsights.ENABLED });
    const image = ecs.ContainerImage.fromEcrRepository(ecr.Repository.fromRepositoryName(this, 'Repository', props.imageRepositoryName), props.imageTag);
    const logGroup = (name: string) => new logs.LogGroup(this, `${name}Logs`, { logGroupName: `/ecs/${name}`, retention: logs.RetentionDays.ONE_MONTH, removalPolicy: RemovalPolicy.RETAIN });

    // ---- API task: the same shape as deploy/ecs/task-definition.json, which is generated from it.
    this.apiTask = new ecs.FargateTaskDefinition(this, 'ApiTask', {
      family: 'chat-api',
      cpu: API_TASK.cpu,
      memoryLimitMiB: API_TASK.memoryMiB,
      runtimePlatform: { operatingSystemFamily: ecs.OperatingSystemFamily.LINUX, cpuArchitecture: ecs.CpuArchitecture.X86_64 },
    });
    this.apiTask.addContainer('chat-api', {
      containerName: 'chat-api',
      image,
      essential: true,
      command: ['node', 'dist/server/src/main.js'],
      portMappings: [{ containerPort: t.API_PORT, protocol: ecs.Protocol.TCP, appProtocol: ecs.AppProtocol.http, name: 'http' }],
      environment: {
        ...commonEnvironment(props, 'chat-api'),
        HOST: '0.0.0.0',
        PORT: String(t.API_PORT),
        REDIS_ADAPTER: 'classic',
        TRUST_PROXY_HOPS: '1',
        CORS_ORIGINS: props.corsOrigins,
        DRAIN_ON_TASK_STOP: 'true',
      },
      secrets: commonSecrets(stores),
      stopTimeout: Duration.seconds(t.STOP_TIMEOUT_S),
      linuxParameters: new ecs.LinuxParameters(this, 'ApiLinux', { initProcessEnabled: true }),
      ulimits: [{ name: ecs.UlimitName.NOFILE, softLimit: 65535, hardLimit: 65535 }],
      healthCheck: { command: ['CMD', 'node', '-e', probe(t.API_PORT)], interval: Duration.seconds(10), timeout: Duration.seconds(3), retries: 3, startPeriod: Duration.seconds(20) },
      logging: ecs.LogDrivers.awsLogs({ logGroup: logGroup('chat-api'), streamPrefix: 'api' }),
    });

    // ---- Workers task: same image, the workers entry; no load balancer.
    this.workersTask = new ecs.FargateTaskDefinition(this, 'WorkersTask', {
      family: 'chat-workers',
      cpu: WORKER_TASK.cpu,
      memoryLimitMiB: WORKER_TASK.memoryMiB,
      runtimePlatform: { operatingSystemFamily: ecs.OperatingSystemFamily.LINUX, cpuArchitecture: ecs.CpuArchitecture.X86_64 },
    });
    this.workersTask.addContainer('chat-workers', {
      containerName: 'chat-workers',
      image,
      essential: true,
      command: ['node', 'dist/workers/src/main.js'],
      environment: { ...commonEnvironment(props, 'chat-workers'), HOST: '0.0.0.0', WORKERS_METRICS_PORT: String(t.WORKERS_METRICS_PORT) },
      secrets: {
        ...commonSecrets(stores),
        NOTIFY_WEBHOOK_SECRET: ecs.Secret.fromSecretsManager(stores.notifyWebhookSecret),
        EVENTS_WEBHOOK_SECRET: ecs.Secret.fromSecretsManager(stores.eventsWebhookSecret),
      },
      stopTimeout: Duration.seconds(t.STOP_TIMEOUT_S),
      linuxParameters: new ecs.LinuxParameters(this, 'WorkersLinux', { initProcessEnabled: true }),
      healthCheck: { command: ['CMD', 'node', '-e', probe(t.WORKERS_METRICS_PORT)], interval: Duration.seconds(10), timeout: Duration.seconds(3), retries: 3, startPeriod: Duration.seconds(20) },
      logging: ecs.LogDrivers.awsLogs({ logGroup: logGroup('chat-workers'), streamPrefix: 'workers' }),
    });

    // ---- Load balancer.
    const albSecurityGroup = (this.albSecurityGroup = new ec2.SecurityGroup(this, 'AlbSecurityGroup', { vpc, description: 'Public ALB', allowAllOutbound: false }));
    this.alb = new elbv2.ApplicationLoadBalancer(this, 'Alb', {
      vpc,
      internetFacing: true,
      securityGroup: albSecurityGroup,
      idleTimeout: Duration.seconds(t.ALB_IDLE_TIMEOUT_S),
      dropInvalidHeaderFields: true,
      deletionProtection: true,
      vpcSubnets: { subnetType: ec2.SubnetType.PUBLIC },
    });
    const accessLogs = (this.accessLogBucket = new s3.Bucket(this, 'AlbAccessLogs', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      lifecycleRules: [{ expiration: Duration.days(90) }],
      removalPolicy: RemovalPolicy.RETAIN,
    }));
    this.alb.logAccessLogs(accessLogs, 'alb');

    this.targetGroup = new elbv2.ApplicationTargetGroup(this, 'ApiTargets', {
      vpc,
      targetGroupName: 'chat-api',
      targetType: elbv2.TargetType.IP,
      port: t.API_PORT,
      protocol: elbv2.ApplicationProtocol.HTTP,
      // WebSocket upgrades to the tasks need HTTP/1.1 (clients may still speak HTTP/2 to the ALB for REST and polling).
      protocolVersion: elbv2.ApplicationProtocolVersion.HTTP1,
      healthCheck: {
        path: t.HEALTH_CHECK_PATH,
        interval: Duration.seconds(5),
        timeout: Duration.seconds(3),
        healthyThresholdCount: 2,
        unhealthyThresholdCount: 2,
        healthyHttpCodes: '200',
      },
      deregistrationDelay: Duration.seconds(t.DEREGISTRATION_DELAY_S),
      // Long-polling sessions live in one process: every request of a session must reach it.
      stickinessCookieDuration: Duration.days(1),
      loadBalancingAlgorithmType: elbv2.TargetGroupLoadBalancingAlgorithmType.ROUND_ROBIN,
    });
    if (props.certificateArn) {
      this.alb.addListener('Https', {
        port: 443,
        protocol: elbv2.ApplicationProtocol.HTTPS,
        certificates: [elbv2.ListenerCertificate.fromArn(props.certificateArn)],
        sslPolicy: elbv2.SslPolicy.RECOMMENDED_TLS,
        defaultTargetGroups: [this.targetGroup],
      });
      this.alb.addRedirect({ sourcePort: 80, targetPort: 443 });
    } else {
      this.alb.addListener('Http', { port: 80, protocol: elbv2.ApplicationProtocol.HTTP, defaultTargetGroups: [this.targetGroup] });
    }

    // ---- Services.
    const deployment = {
      minHealthyPercent: 100,
      maxHealthyPercent: 200,
      circuitBreaker: { enable: true, rollback: true },
      assignPublicIp: false,
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      enableExecuteCommand: false,
      propagateTags: ecs.PropagatedTagSource.SERVICE,
    } as const;
    this.api = new ecs.FargateService(this, 'ApiService', {
      ...deployment,
      serviceName: 'chat-api',
      cluster: this.cluster,
      taskDefinition: this.apiTask,
      healthCheckGracePeriod: Duration.seconds(30),
    });
    this.api.attachToApplicationTargetGroup(this.targetGroup);
    this.workers = new ecs.FargateService(this, 'WorkersService', {
      ...deployment,
      serviceName: 'chat-workers',
      cluster: this.cluster,
      taskDefinition: this.workersTask,
    });

    // ---- Network paths: ALB → API :3000; API and workers → Redis; tasks → Atlas, ECR, AWS APIs (egress).
    this.api.connections.allowFrom(this.alb, ec2.Port.tcp(t.API_PORT), 'ALB to the API tasks');
    for (const service of [this.api, this.workers]) {
      stores.redisSecurityGroup.addIngressRule(service.connections.securityGroups[0], ec2.Port.tcp(REDIS_PORT), `${service === this.api ? 'API' : 'workers'} to Redis`);
    }
  }
}
