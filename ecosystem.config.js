// pm2: the API and the workers as separate apps (first version; the cluster issue
// adds several API processes with sticky sessions for long-polling clients).
module.exports = {
  apps: [
    {
      name: 'chat-api',
      script: 'dist/server/src/main.js',
      instances: 1,
      exec_mode: 'fork',
      kill_timeout: 15000,
      env: { NODE_ENV: 'production' },
    },
    {
      name: 'chat-workers',
      script: 'dist/workers/src/main.js',
      instances: 1,
      exec_mode: 'fork',
      kill_timeout: 15000,
      env: { NODE_ENV: 'production' },
    },
  ],
};
