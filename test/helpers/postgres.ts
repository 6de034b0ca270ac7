/**
 * One database per test in the run's PostgreSQL cluster
 * (test/helpers/postgres-cluster.ts): created empty, dropped (with every
 * connection still on it) when the test finishes.
 */
import { randomBytes } from "node:crypto";
import pg from "pg";
import { onTestFinished } from "vitest";
import { PG_URL_ENV } from "./postgres-cluster.js";

function adminUrl(): string {
  const url = process.env[PG_URL_ENV];
  if (url === undefined) throw new Error(`${PG_URL_ENV} is not set: the PostgreSQL cluster of the run did not start (see vitest.config.ts globalSetup)`);
  return url;
}

/** Runs `text` as the cluster's superuser. */
export async function adminQuery(text: string): Promise<Record<string, unknown>[]> {
  const client = new pg.Client({ connectionString: adminUrl() });
  await client.connect();
  try {
    return (await client.query(text)).rows;
  } finally {
    await client.end();
  }
}

/** A new empty database for this test; its URL. Dropped when the test finishes (`keep` leaves it to the caller). */
export async function testDatabase(options: { readonly keep?: boolean } = {}): Promise<string> {
  const name = `gaffer_t_${randomBytes(6).toString("hex")}`;
  await adminQuery(`create database ${name}`);
  if (options.keep !== true) onTestFinished(() => dropTestDatabase(name));
  const url = new URL(adminUrl());
  url.pathname = `/${name}`;
  return url.toString();
}

/** Drops a test database, closing whatever still connects to it. */
export async function dropTestDatabase(nameOrUrl: string): Promise<void> {
  const name = nameOrUrl.includes("://") ? new URL(nameOrUrl).pathname.slice(1) : nameOrUrl;
  await adminQuery(`drop database if exists ${name} with (force)`);
}
