// bcrypt (pure JS bcryptjs: no native build step on a fresh machine).
import bcrypt from "bcryptjs";
import { randomBytes } from "node:crypto";

const COST = 11;

export function hashPassword(plain: string): Promise<string> {
  return bcrypt.hash(plain, COST);
}

export function verifyPassword(plain: string, hash: string): Promise<boolean> {
  return bcrypt.compare(plain, hash);
}

/** A password for the first admin when none is configured: 20 url-safe characters. */
export function generatePassword(): string {
  return randomBytes(15).toString("base64url");
}
