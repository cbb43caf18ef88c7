import { Page } from '@playwright/test';
import { test, expect, hydrated, shot } from './fixtures';
import { spawn, spawnSync, ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import { freePort, waitForPort } from './net';
import * as os from 'node:os';
import * as path from 'node:path';

// A real OpenLDAP slapd for this file, on a free loopback port, stopped afterwards.
const BASE = 'dc=example,dc=org';
let slapd: ChildProcess | undefined;
let url = '';

test.beforeAll(async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'portcullis-slapd-'));
  fs.mkdirSync(path.join(dir, 'db'));
  fs.writeFileSync(path.join(dir, 'slapd.conf'), [
    'include /etc/ldap/schema/core.schema', 'include /etc/ldap/schema/cosine.schema', 'include /etc/ldap/schema/inetorgperson.schema',
    `pidfile ${dir}/slapd.pid`, 'modulepath /usr/lib/ldap', 'moduleload back_mdb', 'database mdb', 'maxsize 10485760',
    `suffix "${BASE}"`, `rootdn "cn=admin,${BASE}"`, 'rootpw root-secret', `directory ${dir}/db`, '',
  ].join('\n'));
  const port = await freePort();
  url = `ldap://127.0.0.1:${port}`;
  slapd = spawn('/usr/sbin/slapd', ['-f', path.join(dir, 'slapd.conf'), '-h', `${url}/`, '-d', '0'], { stdio: 'ignore' });
  await waitForPort(port);
  const seed = [
    `dn: ${BASE}`, 'objectClass: dcObject', 'objectClass: organization', 'dc: example', 'o: Example', '',
    `dn: ou=people,${BASE}`, 'objectClass: organizationalUnit', 'ou: people', '',
    `dn: cn=reader,${BASE}`, 'objectClass: organizationalRole', 'objectClass: simpleSecurityObject', 'cn: reader', 'userPassword: reader-pass-7f3a', '',
    `dn: uid=lara,ou=people,${BASE}`, 'objectClass: inetOrgPerson', 'uid: lara', 'cn: Lara Croft', 'sn: Croft', 'userPassword: tomb-raider-pass-91', '',
  ].join('\n');
  const add = spawnSync('ldapadd', ['-x', '-H', url, '-D', `cn=admin,${BASE}`, '-w', 'root-secret'], { input: seed });
  expect(add.status).toBe(0);
});

test.afterAll(() => { slapd?.kill(); });

test('an admin connects the directory, and a directory user signs in from the login page', async ({ page }) => {
  await page.goto('/login');
  await hydrated(page);
  await page.getByLabel('Username').fill('admin');
  await page.getByLabel('Password').fill('grumpy-lantern-orbit-41');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page).toHaveURL(/\/$/);
  await page.goto('/admin/sign-in');
  await hydrated(page);
  const section = page.locator('section', { has: page.getByRole('heading', { name: 'Directory (LDAP)' }) });
  await section.getByLabel('Directory URL').fill(url);
  await section.getByLabel('Service account DN').fill(`cn=reader,${BASE}`);
  await section.getByLabel('Service account password').fill('wrong-password');
  await section.getByLabel('Search base').fill(`ou=people,${BASE}`);
  await section.getByRole('button', { name: 'Test connection' }).click();
  await expect(section.getByText(/Could not use the directory/)).toBeVisible();
  await section.getByLabel('Service account password').fill('reader-pass-7f3a');
  await section.getByRole('button', { name: 'Test connection' }).click();
  await expect(section.getByText(/The directory answered/)).toBeVisible();
  await section.getByLabel('Allow sign-in with directory accounts').check();
  await section.getByRole('button', { name: 'Save directory settings' }).click();
  await expect(section.getByText('Directory settings saved.')).toBeVisible();
  await section.screenshot({ path: 'screenshots/60-admin-ldap.png' });
  await page.getByRole('button', { name: 'Sign out', exact: true }).click();
  await expect(page).toHaveURL(/\/login\?signed_out=1$/);

  await hydrated(page);
  await page.getByLabel('Directory (LDAP) account').check();
  await page.getByLabel('Username').fill('lara');
  await page.getByLabel('Password').fill('not-her-password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByText('Invalid username or password.')).toBeVisible();
  await page.screenshot({ path: 'screenshots/61-login-ldap.png', fullPage: true });
  await page.getByLabel('Password').fill('tomb-raider-pass-91');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page).toHaveURL(/\/$/);
  await expect(page.getByRole('heading', { name: 'Welcome, Lara Croft' })).toBeVisible();
});
