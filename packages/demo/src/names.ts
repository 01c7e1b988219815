/**
 * Word lists for the demo world. Company names are fictional; e-mail domains
 * are reserved example domains. Everything is lowercase and valid for Quay:
 * namespaces and repositories match [a-z0-9]+([._-][a-z0-9]+)*, robot short
 * names match [a-z][a-z0-9_]+.
 */

export const COMPANIES = [
  'acme', 'globex', 'initech', 'umbrella', 'hooli', 'stark', 'wayne', 'wonka', 'tyrell', 'cyberdyne',
  'soylent', 'oscorp', 'aperture', 'vandelay', 'dunder', 'monarch', 'gringotts', 'nakatomi', 'weyland',
  'massive-dynamic', 'prestige', 'sterling', 'bluth', 'pied-piper', 'krusty', 'duff', 'oceanic',
  'virtucon', 'zorg', 'rekall', 'octan', 'spacely', 'cogswell', 'gekko', 'nostromo', 'encom', 'omni',
  'yoyodyne', 'buynlarge', 'planet-express', 'mom-corp', 'contoso', 'fabrikam', 'northwind', 'tailspin',
  'woodgrove', 'adventure-works', 'litware', 'proseware', 'lucerne', 'fourth-coffee', 'wingtip',
  'alpine-ski', 'blue-yonder', 'coho', 'datum', 'trey', 'margie', 'southridge', 'graphic-design',
] as const;

export const TEAMS = [
  'platform', 'data', 'ml', 'web', 'mobile', 'payments', 'infra', 'security', 'sre', 'devops', 'qa',
  'analytics', 'search', 'identity', 'billing', 'edge', 'core', 'apps', 'labs', 'research', 'retail',
  'logistics', 'finance', 'hr-tools', 'ops', 'cloud', 'iot', 'media', 'games', 'ai', 'streaming',
  'checkout', 'catalog', 'messaging', 'observability', 'release', 'build', 'docs', 'support', 'mirror',
  'frontend', 'backend', 'api', 'integrations', 'partners', 'marketing', 'sales', 'legal', 'compliance',
  'risk', 'trading', 'insurance', 'health', 'travel', 'fleet', 'energy', 'telemetry', 'devex', 'tooling',
  'runtime', 'storage', 'network', 'databases', 'kernel', 'embedded', 'firmware', 'vision', 'speech',
] as const;

export const FIRST_NAMES = [
  'alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'grace', 'heidi', 'ivan', 'judy', 'mallory', 'niaj',
  'olivia', 'peggy', 'rupert', 'sybil', 'trent', 'victor', 'walter', 'wendy', 'aisha', 'akira', 'amara',
  'anders', 'ana', 'bruno', 'chen', 'chiara', 'diego', 'dmitri', 'elena', 'emeka', 'fatima', 'felix',
  'hana', 'hugo', 'ines', 'jamal', 'jonas', 'kai', 'keiko', 'lars', 'leila', 'lucas', 'maria', 'mateo',
  'mei', 'nadia', 'noah', 'omar', 'priya', 'rafael', 'ravi', 'rosa', 'sanjay', 'sara', 'sofia', 'tariq',
  'tomas', 'uma', 'yusuf', 'zoe', 'lena', 'marco', 'nina', 'oscar', 'paula', 'quinn', 'sean', 'tara',
] as const;

export const LAST_NAMES = [
  'smith', 'johnson', 'garcia', 'miller', 'davis', 'martinez', 'lopez', 'wilson', 'anderson', 'thomas',
  'taylor', 'moore', 'jackson', 'martin', 'lee', 'thompson', 'white', 'harris', 'clark', 'lewis',
  'walker', 'hall', 'young', 'king', 'wright', 'scott', 'green', 'baker', 'adams', 'nelson', 'hill',
  'campbell', 'mitchell', 'roberts', 'carter', 'phillips', 'evans', 'turner', 'torres', 'parker',
  'collins', 'edwards', 'stewart', 'morris', 'murphy', 'cook', 'rogers', 'morgan', 'peterson', 'cooper',
  'reed', 'bailey', 'bell', 'gomez', 'kelly', 'howard', 'ward', 'cox', 'diaz', 'richardson', 'wood',
  'watson', 'brooks', 'bennett', 'gray', 'james', 'reyes', 'cruz', 'hughes', 'price', 'myers', 'long',
  'nakamura', 'schmidt', 'muller', 'rossi', 'novak', 'kowalski', 'silva', 'santos', 'kumar', 'singh',
] as const;

export const EMAIL_DOMAINS = ['example.com', 'example.org', 'example.net', 'corp.example.com', 'dev.example.com'] as const;

export const REPO_BASES = [
  'busybox', 'nginx', 'postgres', 'redis', 'alpine', 'ubuntu', 'python', 'node', 'golang', 'openjdk',
  'api-gateway', 'auth-service', 'frontend', 'backend', 'worker', 'scheduler', 'billing-service',
  'payment-api', 'user-service', 'order-service', 'inventory', 'catalog-api', 'search-indexer',
  'notification-service', 'email-sender', 'image-resizer', 'web-app', 'admin-ui', 'mobile-bff',
  'graphql-server', 'grpc-proxy', 'envoy', 'haproxy', 'traefik', 'prometheus', 'grafana', 'alertmanager',
  'node-exporter', 'loki', 'fluent-bit', 'vector', 'otel-collector', 'jaeger', 'kafka', 'zookeeper',
  'rabbitmq', 'nats', 'minio', 'vault', 'consul', 'etcd', 'coredns', 'cert-manager', 'external-dns',
  'ingress-controller', 'operator', 'controller', 'webhook', 'cli', 'sdk-tests', 'e2e-tests',
  'build-base', 'ci-runner', 'jenkins-agent', 'tekton-tasks', 'argocd-plugins', 'helm-charts',
  'model-server', 'training-job', 'feature-store', 'notebook', 'spark', 'airflow', 'dbt-runner',
  'etl-pipeline', 'data-loader', 'report-generator', 'pdf-renderer', 'ocr', 'translator', 'chatbot',
  'recommender', 'fraud-detector', 'ledger', 'invoice', 'checkout', 'cart', 'pricing', 'shipping',
  'tracking', 'geo-service', 'maps-tiles', 'media-transcoder', 'thumbnailer', 'stream-ingest',
  'cache-warmer', 'rate-limiter', 'feature-flags', 'config-server', 'secrets-sync', 'backup',
  'db-migrations', 'mysql', 'mariadb', 'mongodb', 'elasticsearch', 'opensearch', 'clickhouse', 'memcached',
  'keycloak', 'oauth-proxy', 'docs-site', 'landing-page', 'storybook', 'design-system',
] as const;

export const REPO_SUFFIXES = ['api', 'worker', 'ui', 'operator', 'proxy', 'db', 'cli', 'exporter', 'v2', 'legacy', 'canary', 'base'] as const;

export const ROBOT_SHORTNAMES = [
  'deployer', 'ci', 'builder', 'puller', 'pusher', 'mirror', 'argocd', 'tekton', 'jenkins', 'gitlab_ci',
  'github_actions', 'scanner', 'readonly', 'release', 'flux', 'k8s_pull', 'backup', 'promoter',
] as const;

export const TEAM_NAMES = ['owners', 'developers', 'readers', 'ci', 'sre', 'qa', 'release', 'contractors', 'admins', 'viewers'] as const;

export const TAGS = [
  'stable', 'main', 'dev', 'edge', 'nightly', 'v1', 'v2', 'v3', '1.0.0', '1.0.1', '1.1.0', '1.2.0',
  '1.2.3', '1.3.0', '2.0.0', '2.0.1', '2.1.0', '2.4.7', '3.0.0-rc1', '3.0.0', 'v1.27.3', 'v1.28.0',
  'v1.29.1', '2024.06.1', '2024.07.2', '2024.09.0', '2025.01.3', 'alpine', '1.25-alpine', 'slim',
  'bookworm', 'jammy', 'ubi9', 'ubi9-minimal', 'release-4.14', 'release-4.15', 'release-4.16',
  'sha-3f2a1b9', 'sha-9c81d02', 'sha-a7e44f1', 'sha-0b5d6e3', 'pr-1234', 'pr-1877', 'pr-2051',
  'feature-login', 'hotfix', 'canary', 'staging', 'production', 'test', 'debug', 'amd64', 'arm64',
] as const;

export const MEDIA_TYPES = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
] as const;

/** Clients that talk to the registry (pull/push), with relative frequency. */
export const REGISTRY_AGENTS: ReadonlyArray<readonly [string, number]> = [
  ['docker/24.0.7 go/go1.20.10 git-commit/311b9ff kernel/5.15.0-91-generic os/linux arch/amd64 UpstreamClient(Docker-Client/24.0.7 \\(linux\\))', 14],
  ['docker/26.1.4 go/go1.21.11 git-commit/de5c9cf kernel/6.6.31-linuxkit os/linux arch/arm64 UpstreamClient(Docker-Client/26.1.4 \\(darwin\\))', 6],
  ['docker/20.10.21 go/go1.18.7 git-commit/3056208 kernel/5.4.0-150-generic os/linux arch/amd64 UpstreamClient(Docker-Client/20.10.21 \\(linux\\))', 4],
  ['containers/5.29.2 (github.com/containers/image)', 12],
  ['containers/5.31.0 (github.com/containers/image)', 6],
  ['cri-o/1.29.2 go/go1.21.7 os/linux arch/amd64', 14],
  ['cri-o/1.27.4 go/go1.20.12 os/linux arch/amd64', 6],
  ['containerd/v1.7.13', 12],
  ['containerd/1.6.28', 4],
  ['go-containerregistry/v0.19.1', 4],
  ['crane/v0.19.1 go-containerregistry/v0.19.1', 2],
  ['Helm/3.14.2', 2],
  ['oras/1.1.0', 1],
  ['skopeo/1.14.2', 2],
  ['Go-http-client/1.1', 2],
];

/** Clients of the web UI and REST API. */
export const API_AGENTS: ReadonlyArray<readonly [string, number]> = [
  ['Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36', 8],
  ['Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Safari/605.1.15', 4],
  ['Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0', 4],
  ['python-requests/2.31.0', 3],
  ['curl/8.5.0', 2],
  ['Go-http-client/2.0', 1],
];

export const COUNTRIES: ReadonlyArray<readonly [string, string]> = [
  ['US', 'NA'], ['US', 'NA'], ['US', 'NA'], ['CA', 'NA'], ['DE', 'EU'], ['GB', 'EU'], ['FR', 'EU'],
  ['NL', 'EU'], ['IE', 'EU'], ['CZ', 'EU'], ['IN', 'AS'], ['JP', 'AS'], ['SG', 'AS'], ['KR', 'AS'],
  ['BR', 'SA'], ['AU', 'OC'], ['IL', 'AS'], ['ZA', 'AF'],
];

export const AWS_REGIONS = ['us-east-1', 'us-east-2', 'us-west-2', 'eu-west-1', 'eu-central-1', 'ap-southeast-1', 'ap-northeast-1'] as const;

export const LABEL_KEYS: ReadonlyArray<readonly [string, string]> = [
  ['quay.expires-after', '2w'], ['quay.expires-after', '7d'], ['maintainer', 'platform-team@example.com'],
  ['org.opencontainers.image.source', 'https://git.example.com/apps/service'], ['release', 'candidate'],
  ['com.example.scan', 'passed'], ['environment', 'staging'], ['environment', 'production'], ['owner', 'sre'],
];

export const DESCRIPTIONS = [
  'Base image for internal services', 'Production build of the service', 'Nightly builds, do not use in production',
  'Mirror of the upstream image', 'CI tooling image', 'Deprecated: use the v2 repository', '# Service\n\nBuilt by CI on every merge.',
] as const;

export const SERVICES = ['quay', 'clair', 'security_scanner', 'notary', 'builder'] as const;
