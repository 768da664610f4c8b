-- Which of the wanted privileges differ from what the objects' access lists hold.
-- The one parameter: a JSON array of {role, type, objs, privs, schema?, state?} (state present or
-- absent; objs and privs comma-separated), as __postgres_privileges in vars/main.yml.
-- Returns the positions (from 0) of the entries to bring in line, nothing when all are.
-- The access lists are read as stored (aclexplode), not as effective rights: a right a role holds
-- only through PUBLIC must still be granted to it before PUBLIC loses it.
WITH wanted AS (
    SELECT w.n - 1 AS item,
           w.v ->> 'type' AS type,
           w.v ->> 'schema' AS schema,
           trim(obj) AS obj,
           upper(trim(priv)) AS priv,
           coalesce(w.v ->> 'state', 'present') = 'present' AS to_hold,
           CASE WHEN upper(w.v ->> 'role') = 'PUBLIC' THEN 0::oid
                ELSE (SELECT oid FROM pg_roles WHERE rolname = w.v ->> 'role') END AS grantee
    FROM jsonb_array_elements(%s::jsonb) WITH ORDINALITY AS w(v, n),
         unnest(string_to_array(w.v ->> 'objs', ',')) AS obj,
         unnest(string_to_array(w.v ->> 'privs', ',')) AS priv
), acls AS (
    SELECT wanted.*,
           CASE
             WHEN type = 'database' THEN
               (SELECT coalesce(datacl, acldefault('d', datdba)) FROM pg_database WHERE datname = obj)
             WHEN type = 'schema' THEN
               (SELECT coalesce(nspacl, acldefault('n', nspowner)) FROM pg_namespace WHERE nspname = obj)
             WHEN type IN ('table', 'sequence') THEN
               (SELECT coalesce(relacl, acldefault((CASE relkind WHEN 'S' THEN 's' ELSE 'r' END)::"char",
                                                   relowner))
                FROM pg_class WHERE oid = to_regclass(quote_ident(schema) || '.' || quote_ident(obj)))
           END AS acl
    FROM wanted
)
-- A missing object or role has no access list entry: its entry differs, and postgresql_privs
-- then fails on it with its own message.
SELECT DISTINCT item
FROM acls
WHERE to_hold <> EXISTS (SELECT FROM aclexplode(acls.acl) AS a
                         WHERE a.grantee = acls.grantee AND a.privilege_type = acls.priv)
ORDER BY item
