import SluiceCore

/// The self-managed warehouse host's first boot, rendered from one place: PostgreSQL from the
/// Amazon Linux 2023 repositories (which AWS serves from S3, so through the spec's S3 gateway
/// endpoint), its data on the host's own data volume, TLS, only the warehouse's client subnets
/// admitted with scram-sha-256, the admin's password from the generated secret; then the stack's
/// wait condition (a presigned S3 URL, also through the endpoint) is told PostgreSQL is up.
public enum WarehouseHostBootstrap {
    /// The major version installed: AL2023's `postgresql15-server`, the version the tests configure
    /// with Debian's PostgreSQL.
    public static let postgresMajor = 15
    /// AWS's AL2023 package repositories, per region (docs.aws.amazon.com/linux/al2023/ug/managing-repos-os-updates.html).
    public static let repositoryBucket = "al2023-repos-${AWS::Region}-de612dc2"
    /// Where a wait condition handle's presigned URL points.
    public static let waitConditionBucket = "cloudformation-waitcondition-${AWS::Region}"
    /// The data volume's device name as the template attaches it (AL2023's udev rules link the NVMe device to it).
    public static let dataDevice = "/dev/sdf"
    public static let dataVolumeGiB = 200
    /// How long the stack waits for the host to say PostgreSQL is up.
    public static let timeoutSeconds = 1800

    /// The warehouse's client subnets' address ranges: what pg_hba.conf admits.
    public static func clientRanges(_ spec: Spec) -> [String] {
        guard let warehouse = spec.warehouse else { return [] }
        var subnets: [String] = []
        for client in warehouse.clients {
            if let function = spec.compute.function(client) { subnets += function.subnets }
            if let host = spec.compute.host(client) { subnets.append(host.subnet) }
        }
        return Array(Set(subnets.compactMap { spec.network.subnet($0)?.cidr.description })).sorted()
    }

    /// The script as `Fn::Sub` takes it. `${AWS::Region}`, `${AdminSecret}` and `${WaitHandle}` are
    /// CloudFormation's; the shell's own variables are written `$NAME`, never `${…}`, so `Fn::Sub`
    /// leaves them alone. Sourced with an argument (`. script --functions-only`) it only defines its
    /// functions: the tests run `configure_postgresql` and `set_admin_password` against Debian's PostgreSQL.
    public static func script(database: String, port: Int, clientRanges: [String]) -> String {
        """
        #!/bin/bash
        # Sluice: the warehouse host's first boot, rendered from the spec (do not edit; change the spec).
        set -Eeuo pipefail

        PG_MAJOR=\(postgresMajor)
        DATA_DEVICE=\(dataDevice)
        DATA_MOUNT=/var/lib/pgsql
        DATABASE='\(database)'
        PORT=\(port)
        CLIENT_RANGES='\(clientRanges.joined(separator: " "))'
        # CloudFormation's Fn::Sub fills these three in before the host sees the script.
        # shellcheck disable=SC2016
        REGION='${AWS::Region}'
        # shellcheck disable=SC2016
        ADMIN_SECRET='${AdminSecret}'
        # shellcheck disable=SC2016
        WAIT_HANDLE='${WaitHandle}'

        # How psql reaches the server as its superuser: over the local socket, as postgres (peer).
        run_psql() {
          runuser -u postgres -- psql "$@"
        }

        # Tells the stack's wait condition how the boot went (a PUT to its presigned S3 URL).
        signal() {
          local body
          body=$(printf '{"Status":"%s","Reason":"%s","UniqueId":"postgresql","Data":"%s"}' "$1" "$2" "$1")
          curl -sS --retry 5 -X PUT -H 'Content-Type:' --data-binary "$body" "$WAIT_HANDLE"
        }

        # From the AL2023 repositories, which AWS serves from S3.
        install_postgresql() {
          dnf install -y "postgresql$PG_MAJOR-server" "postgresql$PG_MAJOR" openssl
        }

        # The data volume is attached once the instance runs: wait for it, make a file system only
        # when it has none (a replaced host finds the old data), mount it where PostgreSQL keeps it.
        mount_data_volume() {
          local waited=0 uuid
          until [ -b "$DATA_DEVICE" ]; do
            [ "$waited" -lt 600 ] || { echo "no data volume at $DATA_DEVICE after 600 s" >&2; return 1; }
            sleep 5; waited=$((waited + 5))
          done
          blkid "$DATA_DEVICE" >/dev/null 2>&1 || mkfs -t xfs "$DATA_DEVICE"
          uuid=$(blkid -s UUID -o value "$DATA_DEVICE")
          mkdir -p "$DATA_MOUNT"
          grep -q "$uuid" /etc/fstab || echo "UUID=$uuid $DATA_MOUNT xfs defaults,nofail 0 2" >> /etc/fstab
          mount -a
          chown postgres:postgres "$DATA_MOUNT"
          chmod 700 "$DATA_MOUNT"
        }

        # TLS with a key made on the host, scram-sha-256 passwords, every interface; only the
        # client subnets, only over TLS, in pg_hba.conf. $1: the data directory.
        configure_postgresql() {
          local data=$1 range
          if [ ! -f "$data/server.key" ]; then
            openssl req -new -x509 -days 3650 -nodes -newkey rsa:2048 -subj "/CN=sluice-warehouse" \\
              -keyout "$data/server.key" -out "$data/server.crt" 2>/dev/null
          fi
          chmod 600 "$data/server.key"
          cat > "$data/sluice.conf" <<CONF
        # Sluice: how the warehouse listens (rendered from the spec).
        listen_addresses = '*'
        port = $PORT
        ssl = on
        ssl_cert_file = 'server.crt'
        ssl_key_file = 'server.key'
        ssl_min_protocol_version = 'TLSv1.2'
        password_encryption = 'scram-sha-256'
        CONF
          grep -q "^include 'sluice.conf'" "$data/postgresql.conf" || echo "include 'sluice.conf'" >> "$data/postgresql.conf"
          {
            echo "# Sluice: the warehouse admits only its clients' subnets, over TLS, with scram-sha-256."
            echo "local   all   postgres   peer"
            for range in $CLIENT_RANGES; do
              echo "hostssl all   all        $range   scram-sha-256"
            done
          } > "$data/pg_hba.conf"
        }

        # The admin from the secret: a login that may create roles and owns the database. $1: name, $2: password.
        set_admin_password() {
          run_psql -X -q -v ON_ERROR_STOP=1 -v name="$1" -v password="$2" -v database="$DATABASE" <<'SQL'
        SELECT format('CREATE ROLE %I', :'name') WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'name') \\gexec
        SELECT format('ALTER ROLE %I WITH LOGIN CREATEROLE CREATEDB PASSWORD %L', :'name', :'password') \\gexec
        SELECT format('CREATE DATABASE %I OWNER %I', :'database', :'name') WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'database') \\gexec
        SQL
        }

        main() {
          trap 'signal FAILURE "the warehouse bootstrap failed at line $LINENO"' ERR
          install_postgresql
          mount_data_volume
          local secret admin password
          secret=$(aws secretsmanager get-secret-value --region "$REGION" --secret-id "$ADMIN_SECRET" --query SecretString --output text)
          admin=$(printf '%s' "$secret" | python3 -c 'import json, sys; print(json.load(sys.stdin)["username"])')
          password=$(printf '%s' "$secret" | python3 -c 'import json, sys; print(json.load(sys.stdin)["password"])')
          [ -s "$DATA_MOUNT/data/PG_VERSION" ] || postgresql-setup --initdb
          configure_postgresql "$DATA_MOUNT/data"
          chown -R postgres:postgres "$DATA_MOUNT/data"
          systemctl enable postgresql
          systemctl restart postgresql
          set_admin_password "$admin" "$password"
          signal SUCCESS "PostgreSQL $PG_MAJOR is up"
        }

        if [ "$#" -eq 0 ]; then
          main
        fi

        """
    }

    /// `Fn::Base64` of `Fn::Sub` with the secret's and the handle's references.
    static func userData(_ spec: Spec, adminSecret: String, waitHandle: String) -> TemplateValue {
        guard let warehouse = spec.warehouse else { return .string("") }
        let text = script(database: warehouse.database, port: warehouse.port, clientRanges: clientRanges(spec))
        return .map([
            (
                "Fn::Base64",
                .map([
                    (
                        "Fn::Sub",
                        .list([.string(text), .map([("AdminSecret", .ref(adminSecret)), ("WaitHandle", .ref(waitHandle))])])
                    )
                ])
            )
        ])
    }
}
