//! The Git object store every fake GitHub serves its Git Database API from (the integration
//! tests' `audit_store.rs` and `fake_github.rs`, and the provenance benchmark's fake, which
//! includes this file by path): content-addressed blobs, trees and commits, as on GitHub.
//! The fakes keep their own refs and rules (protection, races) around it.

use std::collections::BTreeMap;

use sha2::{Digest, Sha256};

/// Blobs, trees (name -> (kind, id)) and commits ((tree, parents, message)) by id.
#[derive(Debug, Default)]
pub(crate) struct GitObjects {
    pub(crate) blobs: BTreeMap<String, Vec<u8>>,
    pub(crate) trees: BTreeMap<String, BTreeMap<String, (String, String)>>,
    pub(crate) commits: BTreeMap<String, (String, Vec<String>, String)>,
}

/// A 40-hex id of `kind` over `bytes` (SHA-256, cut to Git's length).
pub(crate) fn object_id(kind: &str, bytes: &[u8]) -> String {
    let mut h = Sha256::new();
    h.update(kind.as_bytes());
    h.update([0]);
    h.update(bytes);
    hex::encode(&h.finalize()[..20])
}

impl GitObjects {
    pub(crate) fn put_blob(&mut self, bytes: Vec<u8>) -> String {
        let id = object_id("blob", &bytes);
        self.blobs.insert(id.clone(), bytes);
        id
    }

    pub(crate) fn put_tree(&mut self, entries: BTreeMap<String, (String, String)>) -> String {
        let text = serde_json::to_string(&entries).expect("tree json");
        let id = object_id("tree", text.as_bytes());
        self.trees.insert(id.clone(), entries);
        id
    }

    /// A new commit (two commits of the same tree, parents and message still differ).
    pub(crate) fn put_commit(&mut self, tree: &str, parents: Vec<String>, message: &str) -> String {
        let id = object_id(
            "commit",
            format!("{tree}{parents:?}{message}{}", self.commits.len()).as_bytes(),
        );
        self.commits
            .insert(id.clone(), (tree.into(), parents, message.into()));
        id
    }

    /// path -> blob id, recursively (an unknown tree is empty).
    pub(crate) fn flatten(&self, tree: &str, prefix: &str, out: &mut BTreeMap<String, String>) {
        for (name, (kind, id)) in self.trees.get(tree).into_iter().flatten() {
            let path = format!("{prefix}{name}");
            if kind == "tree" {
                self.flatten(id, &format!("{path}/"), out);
            } else {
                out.insert(path, id.clone());
            }
        }
    }

    /// Nested trees from a flat path -> blob id map; the root tree's id.
    pub(crate) fn build(&mut self, flat: &BTreeMap<String, String>) -> String {
        let mut here: BTreeMap<String, (String, String)> = BTreeMap::new();
        let mut sub: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
        for (path, id) in flat {
            match path.split_once('/') {
                Some((dir, rest)) => {
                    sub.entry(dir.to_string())
                        .or_default()
                        .insert(rest.to_string(), id.clone());
                }
                None => {
                    here.insert(path.clone(), ("blob".into(), id.clone()));
                }
            }
        }
        for (dir, inner) in sub {
            let id = self.build(&inner);
            here.insert(dir, ("tree".into(), id));
        }
        self.put_tree(here)
    }

    /// Whether `ancestor` is `of` or one of its ancestors (a fast-forward's rule).
    pub(crate) fn is_ancestor(&self, ancestor: &str, of: &str) -> bool {
        let mut todo = vec![of.to_string()];
        while let Some(c) = todo.pop() {
            if c == ancestor {
                return true;
            }
            if let Some((_, parents, _)) = self.commits.get(&c) {
                todo.extend(parents.iter().cloned());
            }
        }
        false
    }
}
