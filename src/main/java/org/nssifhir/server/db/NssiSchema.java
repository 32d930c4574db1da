package org.nssifhir.server.db;

import ca.uhn.fhir.jpa.migrate.DriverTypeEnum;
import ca.uhn.fhir.jpa.migrate.taskdef.BaseTask;
import ca.uhn.fhir.jpa.migrate.taskdef.ExecuteRawSqlTask;
import java.util.List;

/**
 * The server's own tables, next to HAPI's, created and upgraded by the same migrator (with its own migration
 * table). Append tasks; never edit one that has shipped.
 *
 * <p>The authorization-server tables are Spring Authorization Server's JDBC schema, adapted for PostgreSQL as its
 * documentation says (text for blob, timestamptz for timestamp), plus hash indexes on the token columns because
 * every FHIR request looks its token up (revocation check).
 */
final class NssiSchema {

	static final String MIGRATION_TABLE = "NSSI_MIGRATION";
	private static final String PRODUCT_VERSION = "0.1.0";

	private NssiSchema() {}

	static List<BaseTask> tasks() {
		return List.of(
				sql("20261125.1", """
						CREATE TABLE oauth2_registered_client (
						    id varchar(100) NOT NULL PRIMARY KEY,
						    client_id varchar(100) NOT NULL UNIQUE,
						    client_id_issued_at timestamptz DEFAULT CURRENT_TIMESTAMP NOT NULL,
						    client_secret varchar(200) DEFAULT NULL,
						    client_secret_expires_at timestamptz DEFAULT NULL,
						    client_name varchar(200) NOT NULL,
						    client_authentication_methods varchar(1000) NOT NULL,
						    authorization_grant_types varchar(1000) NOT NULL,
						    redirect_uris varchar(1000) DEFAULT NULL,
						    post_logout_redirect_uris varchar(1000) DEFAULT NULL,
						    scopes varchar(1000) NOT NULL,
						    client_settings varchar(2000) NOT NULL,
						    token_settings varchar(2000) NOT NULL)"""),
				sql("20261125.2", """
						CREATE TABLE oauth2_authorization (
						    id varchar(100) NOT NULL PRIMARY KEY,
						    registered_client_id varchar(100) NOT NULL,
						    principal_name varchar(200) NOT NULL,
						    authorization_grant_type varchar(100) NOT NULL,
						    authorized_scopes varchar(1000) DEFAULT NULL,
						    attributes text DEFAULT NULL,
						    state varchar(500) DEFAULT NULL,
						    authorization_code_value text DEFAULT NULL,
						    authorization_code_issued_at timestamptz DEFAULT NULL,
						    authorization_code_expires_at timestamptz DEFAULT NULL,
						    authorization_code_metadata text DEFAULT NULL,
						    access_token_value text DEFAULT NULL,
						    access_token_issued_at timestamptz DEFAULT NULL,
						    access_token_expires_at timestamptz DEFAULT NULL,
						    access_token_metadata text DEFAULT NULL,
						    access_token_type varchar(100) DEFAULT NULL,
						    access_token_scopes varchar(1000) DEFAULT NULL,
						    oidc_id_token_value text DEFAULT NULL,
						    oidc_id_token_issued_at timestamptz DEFAULT NULL,
						    oidc_id_token_expires_at timestamptz DEFAULT NULL,
						    oidc_id_token_metadata text DEFAULT NULL,
						    refresh_token_value text DEFAULT NULL,
						    refresh_token_issued_at timestamptz DEFAULT NULL,
						    refresh_token_expires_at timestamptz DEFAULT NULL,
						    refresh_token_metadata text DEFAULT NULL,
						    user_code_value text DEFAULT NULL,
						    user_code_issued_at timestamptz DEFAULT NULL,
						    user_code_expires_at timestamptz DEFAULT NULL,
						    user_code_metadata text DEFAULT NULL,
						    device_code_value text DEFAULT NULL,
						    device_code_issued_at timestamptz DEFAULT NULL,
						    device_code_expires_at timestamptz DEFAULT NULL,
						    device_code_metadata text DEFAULT NULL)"""),
				sql("20261125.3", "CREATE INDEX oauth2_authz_access_token ON oauth2_authorization USING hash (access_token_value)"),
				sql("20261125.4", "CREATE INDEX oauth2_authz_refresh_token ON oauth2_authorization USING hash (refresh_token_value)"),
				sql("20261125.5", "CREATE INDEX oauth2_authz_code ON oauth2_authorization USING hash (authorization_code_value)"),
				sql("20261125.6", "CREATE INDEX oauth2_authz_state ON oauth2_authorization USING hash (state)"),
				sql("20261125.7", "CREATE INDEX oauth2_authz_id_token ON oauth2_authorization USING hash (oidc_id_token_value)"),
				sql("20261125.8", """
						CREATE TABLE nssi_smart_launch (
						    id varchar(64) NOT NULL PRIMARY KEY,
						    username varchar(200) NOT NULL,
						    patient_id varchar(64),
						    encounter_id varchar(64),
						    fhir_context text,
						    created_at timestamptz NOT NULL,
						    expires_at timestamptz NOT NULL)"""),
				sql("20261125.9", """
						CREATE TABLE nssi_client_assertion (
						    client_id varchar(100) NOT NULL,
						    jti varchar(200) NOT NULL,
						    expires_at timestamptz NOT NULL,
						    PRIMARY KEY (client_id, jti))"""),
				sql("20261125.10", "ALTER TABLE nssi_smart_launch ADD COLUMN client_id varchar(100)"),
				// the audit trail's outbox (audit/AuditOutbox, stored by audit/AuditOutboxDrain): one row per recorded access until it is stored
				sql("20261126.1", """
						CREATE TABLE nssi_audit_outbox (
						    id bigserial PRIMARY KEY,
						    recorded_at timestamptz NOT NULL DEFAULT now(),
						    event text NOT NULL,
						    attempts integer NOT NULL DEFAULT 0,
						    last_error varchar(200))"""),
				// refresh token reuse detection (security/RefreshTokenFamilies): spent refresh tokens and replaced access
				// tokens, as SHA-256 hashes, with the authorization they belong to
				sql("20261201.1", """
						CREATE TABLE nssi_token_family (
						    token_hash char(64) NOT NULL PRIMARY KEY,
						    authorization_id varchar(100) NOT NULL,
						    kind varchar(10) NOT NULL,
						    expires_at timestamptz NOT NULL,
						    revoked boolean NOT NULL DEFAULT false)"""),
				sql("20261201.2", "CREATE INDEX nssi_token_family_authorization ON nssi_token_family (authorization_id)"),
				// enrolment by invitation (security/enrolment): people who set their own password from a one-time link.
				// The invitation token is stored only as its SHA-256 hash; the password only as a bcrypt hash.
				sql("20261206.1", """
						CREATE TABLE nssi_account (
						    username varchar(64) NOT NULL PRIMARY KEY,
						    fhir_user varchar(200) NOT NULL UNIQUE,
						    password_hash varchar(200) NOT NULL,
						    created_at timestamptz NOT NULL,
						    password_set_at timestamptz NOT NULL,
						    disabled boolean NOT NULL DEFAULT false)"""),
				sql("20261206.2", """
						CREATE TABLE nssi_invitation (
						    token_hash char(64) NOT NULL PRIMARY KEY,
						    fhir_user varchar(200) NOT NULL,
						    invited_by varchar(200) NOT NULL,
						    created_at timestamptz NOT NULL,
						    expires_at timestamptz NOT NULL,
						    used_at timestamptz,
						    revoked_at timestamptz)"""),
				sql("20261206.3", "CREATE INDEX nssi_invitation_fhir_user ON nssi_invitation (fhir_user)"),
				// failed sign-ins per username (known or not, so a lockout tells nothing about who has an account)
				sql("20261206.4", """
						CREATE TABLE nssi_sign_in_failure (
						    username varchar(100) NOT NULL PRIMARY KEY,
						    failures integer NOT NULL,
						    last_failure_at timestamptz NOT NULL,
						    locked_until timestamptz)"""),
				// the optional second step of sign-in (security/enrolment/Totp): the authenticator app's shared secret
				sql("20261206.5", "ALTER TABLE nssi_account ADD COLUMN totp_secret varchar(64)"),
				// relabelling stored data (relabel/): the labelling rules' fingerprint last applied and the job that applies
				// it; one row, locked by the node that decides whether to start the job (so one node does)
				sql("20261206.50", """
						CREATE TABLE nssi_relabel_state (
						    id smallint NOT NULL PRIMARY KEY CHECK (id = 1),
						    fingerprint char(64),
						    job_id varchar(100),
						    submitted_at timestamptz,
						    completed_at timestamptz)"""),
				sql("20261206.51", "INSERT INTO nssi_relabel_state (id) VALUES (1)"),
				// the authenticator secret is stored encrypted (security/enrolment/TotpSecrets: "aes-gcm:" + base64 of
				// nonce, ciphertext and tag, 88 characters), no longer as the 32-character base32 secret itself
				sql("20261206.52", "ALTER TABLE nssi_account ALTER COLUMN totp_secret TYPE varchar(200)"),
				// disabling an account revokes every authorization of its username (issuing/RefreshTokenFamilies.revokeUser)
				sql("20261206.53", "CREATE INDEX oauth2_authz_principal ON oauth2_authorization (principal_name)"),
				// the last 30-second step whose authenticator code was accepted (security/enrolment/Accounts.acceptCode):
				// with the account, so a code used once is refused on every node and after a restart
				sql("20261206.70", "ALTER TABLE nssi_account ADD COLUMN totp_last_step bigint"));
	}

	private static ExecuteRawSqlTask sql(String version, String sql) {
		ExecuteRawSqlTask task = new ExecuteRawSqlTask(PRODUCT_VERSION, version);
		task.addSql(DriverTypeEnum.POSTGRES_9_4, sql);
		return task;
	}
}
