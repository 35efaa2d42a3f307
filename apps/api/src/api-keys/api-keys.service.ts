import { Inject, Injectable } from '@nestjs/common';
import { ApiKeyRepository, type StoredApiKey } from '@app/redis';
import type { Permission, Role } from '../auth/permissions';
import type { Principal } from '../auth/principal';
import {
  compileGrants,
  grantsAll,
  isAllowed,
  scopeGrants,
  type RoleGrants,
} from '../auth/rbac-policy';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import {
  ConflictError,
  InvalidRequestError,
  ResourceNotFoundError,
} from '../common/errors/domain-errors';
import { isoTime } from '../common/http/iso-time';
import { apiKeyHint, issueApiKey } from './api-key-format';
import { ApiKeyAuthenticator } from './api-key.authenticator';
import type {
  ApiKeyDto,
  ApiKeyListDto,
  CreateApiKeyDto,
  CreatedApiKeyDto,
  RevokedApiKeyDto,
} from './dto/api-key.dto';
import { MAX_API_KEYS_PER_TENANT } from './dto/api-key.dto';

// Live keys one tenant may hold (keeps listing and the create script's clean-up bounded).
export { MAX_API_KEYS_PER_TENANT };

/** Admin-managed API keys of the caller's tenant: issue (secret shown once), list, revoke. */
@Injectable()
export class ApiKeysService {
  private readonly grants: RoleGrants;

  constructor(
    private readonly keys: ApiKeyRepository,
    private readonly authenticator: ApiKeyAuthenticator,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    this.grants = compileGrants(config.auth.rolePermissions);
  }

  async create(tenant: string, input: CreateApiKeyDto, caller: Principal | undefined) {
    if (input.roles === undefined && input.scopes === undefined) {
      throw InvalidRequestError.field('roles', 'give roles, scopes or both');
    }
    const expiresAt = input.expires_at === undefined ? undefined : Date.parse(input.expires_at);
    if (expiresAt !== undefined && expiresAt <= Date.now()) {
      throw InvalidRequestError.field('expires_at', 'must be in the future');
    }
    this.assertWithinCaller(input, caller);
    const issued = issueApiKey(tenant);
    const stored = {
      id: issued.id,
      name: input.name,
      secretHash: issued.secretHash,
      roles: [...new Set(input.roles ?? [])],
      scopes: input.scopes === undefined ? undefined : [...new Set(input.scopes)],
      createdBy: caller?.sub ?? 'system',
      expiresAt,
    };
    const outcome = await this.keys.create(tenant, stored, MAX_API_KEYS_PER_TENANT);
    if (outcome.kind === 'limit_reached') {
      throw new ConflictError(
        `the tenant already has ${outcome.limit} API keys; revoke one before creating another`,
      );
    }
    const created: CreatedApiKeyDto = {
      ...toApiKeyDto(tenant, { ...stored, createdAt: outcome.createdAt }),
      api_key: issued.key,
    };
    return created;
  }

  async list(tenant: string): Promise<ApiKeyListDto> {
    const keys = await this.keys.list(tenant);
    return { api_keys: keys.map((key) => toApiKeyDto(tenant, key)), total_count: keys.length };
  }

  async revoke(tenant: string, id: string): Promise<RevokedApiKeyDto> {
    if (!(await this.keys.revoke(tenant, id))) throw new ResourceNotFoundError('API key', id);
    this.authenticator.forgetVerified();
    return { revoked: true, revoked_at: isoTime(Date.now()) };
  }

  /** A key never grants more than its creator holds (no escalation through a key). */
  private assertWithinCaller(input: CreateApiKeyDto, caller: Principal | undefined): void {
    if (caller === undefined) return;
    const policy = this.config.auth;
    const wanted = new Set<Permission>();
    for (const role of input.roles ?? []) {
      policy.rolePermissions[role as Role].forEach((p) => wanted.add(p));
    }
    scopeGrants(policy.scopePermissions, input.scopes ?? []).forEach((p) => wanted.add(p));
    const callerScopes =
      caller.scopes === undefined ? undefined : scopeGrants(policy.scopePermissions, caller.scopes);
    const exceeding = [...wanted].filter(
      (p) =>
        !(caller.roles.length === 0 || isAllowed(this.grants, caller.roles, [p])) ||
        (callerScopes !== undefined && !grantsAll(callerScopes, [p])),
    );
    if (exceeding.length > 0) {
      throw InvalidRequestError.field(
        input.roles === undefined ? 'scopes' : 'roles',
        `would grant ${exceeding.join(', ')}, which you do not hold`,
      );
    }
  }
}

function toApiKeyDto(tenant: string, key: StoredApiKey): ApiKeyDto {
  return {
    id: key.id,
    name: key.name,
    key_hint: apiKeyHint(tenant, key.id),
    roles: key.roles,
    scopes: key.scopes ?? null,
    created_by: key.createdBy,
    created_at: isoTime(key.createdAt),
    expires_at: key.expiresAt === undefined ? null : isoTime(key.expiresAt),
  };
}
