//! A real OpenLDAP `slapd` (Debian's package) started for one test on a free loopback port,
//! seeded with a few people, and stopped when the test ends.
use std::io::Write;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const BASE: &str = "dc=example,dc=org";
pub const PEOPLE: &str = "ou=people,dc=example,dc=org";
pub const READER_DN: &str = "cn=reader,dc=example,dc=org";
pub const READER_PASSWORD: &str = "reader-pass-7f3a";
pub const LARA_PASSWORD: &str = "tomb-raider-pass-91";

pub struct Directory {
    pub url: String,
    child: Child,
    _dir: tempfile::TempDir,
}

impl Drop for Directory {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

const SEED: &str = "dn: dc=example,dc=org
objectClass: dcObject
objectClass: organization
dc: example
o: Example

dn: ou=people,dc=example,dc=org
objectClass: organizationalUnit
ou: people

dn: cn=reader,dc=example,dc=org
objectClass: organizationalRole
objectClass: simpleSecurityObject
cn: reader
userPassword: reader-pass-7f3a

dn: uid=lara,ou=people,dc=example,dc=org
objectClass: inetOrgPerson
uid: lara
cn: Lara Croft
sn: Croft
userPassword: tomb-raider-pass-91

dn: uid=admin,ou=people,dc=example,dc=org
objectClass: inetOrgPerson
uid: admin
cn: Directory Admin
sn: Admin
userPassword: directory-admin-pass-55
";

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Starts slapd and loads the people above. Panics with a clear message when slapd is missing
/// (`.ci/setup` installs it).
pub fn start() -> Directory {
    let slapd = ["/usr/sbin/slapd", "/usr/local/sbin/slapd"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())
        .expect("OpenLDAP's slapd is not installed: run `bash .ci/setup` (Debian package slapd)");
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("db")).unwrap();
    let conf = dir.path().join("slapd.conf");
    let mut f = std::fs::File::create(&conf).unwrap();
    write!(
        f,
        "include /etc/ldap/schema/core.schema\ninclude /etc/ldap/schema/cosine.schema\ninclude /etc/ldap/schema/inetorgperson.schema\n\
         pidfile {dir}/slapd.pid\nmodulepath /usr/lib/ldap\nmoduleload back_mdb\n\
         database mdb\nmaxsize 10485760\nsuffix \"{BASE}\"\nrootdn \"cn=admin,{BASE}\"\nrootpw root-secret\ndirectory {dir}/db\n",
        dir = dir.path().display()
    )
    .unwrap();
    let port = free_port();
    let url = format!("ldap://127.0.0.1:{port}");
    let child = Command::new(slapd)
        .args(["-f", conf.to_str().unwrap(), "-h", &format!("{url}/"), "-d", "0"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("slapd starts");
    let directory = Directory { url, child, _dir: dir };
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "slapd did not start listening");
        std::thread::sleep(Duration::from_millis(50));
    }
    let mut add = Command::new("ldapadd")
        .args(["-x", "-H", &directory.url, "-D", &format!("cn=admin,{BASE}"), "-w", "root-secret"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("ldapadd (Debian package ldap-utils) runs");
    add.stdin.take().unwrap().write_all(SEED.as_bytes()).unwrap();
    assert!(add.wait().unwrap().success(), "the directory is seeded");
    directory
}
