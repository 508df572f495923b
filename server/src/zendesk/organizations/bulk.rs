//! Bulk writes: `create_many` / `update_many` jobs with per-item results, collision handling and
//! reconciliation, and `upsert_organizations` on top of them.

use std::collections::HashMap;

use serde_json::{Value, json};

use super::super::client::{Call, ZendeskClient};
use super::super::error::ZendeskError;
use super::super::jobs::{JobResult, JobState, JobStatus};
use super::names::{Conflict, conflict_in_result, diff, sent_values};
use super::values::FieldTypes;
use super::{
    ItemFailure, MAX_BATCH, MAX_NAME_ATTEMPTS, OrgAction, OrgWrite, Organization,
    OrganizationInput, OrganizationUpdate, WrittenOrg, check_input, create_body,
    disambiguated_name, fold, update_body,
};

impl ZendeskClient {
    /// Submits a bulk call and waits for its job. `Ok(None)` means the outcome of every item is unknown (the
    /// call's answer was lost or unreadable): the caller reconciles them all. A job that ended `failed` or
    /// `killed` is returned as it is: its results say which items were processed and how; only the items
    /// without a result are unknown.
    async fn run_bulk(&self, call: Call) -> Result<Option<JobStatus>, ZendeskError> {
        match self.submit_job(call).await {
            Ok(job) => {
                if job.status != JobState::Completed {
                    tracing::warn!(job = %job.id, status = job.status.as_str(), message = ?job.message,
                        results = job.results.len(), "bulk job did not complete; using the results it has");
                }
                Ok(Some(job))
            }
            Err(e @ ZendeskError::JobTimeout { .. }) => Err(e),
            Err(e) if e.is_ambiguous() => {
                tracing::warn!(error = %e, "bulk call outcome unknown; reconciling");
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    /// `POST /api/v2/organizations/create_many` in jobs of up to 100, polling each job. Every item must have a
    /// distinct `external_id`. Names that collide within the input are disambiguated up front (the smallest
    /// `external_id` keeps the plain name); names taken in Zendesk move to the next level and are resubmitted;
    /// items whose outcome is unknown are looked up by `external_id` before being submitted again.
    pub async fn create_many_organizations(
        &self,
        inputs: &[OrganizationInput],
    ) -> Result<Vec<OrgWrite>, ZendeskError> {
        check_batch(inputs)?;
        self.create_checked(inputs).await
    }

    /// [`Self::create_many_organizations`] for inputs that passed [`check_batch`].
    async fn create_checked(
        &self,
        inputs: &[OrganizationInput],
    ) -> Result<Vec<OrgWrite>, ZendeskError> {
        let mut attempts = initial_attempts(inputs);
        let mut outcomes: Vec<Option<Result<WrittenOrg, ItemFailure>>> = vec![None; inputs.len()];
        let order: Vec<usize> = (0..inputs.len()).collect();
        for chunk in order.chunks(MAX_BATCH) {
            self.create_chunk(inputs, chunk.to_vec(), &mut attempts, &mut outcomes)
                .await?;
        }
        Ok(collect(
            outcomes,
            |i| Some(inputs[i].external_id.clone()),
            "not processed",
        ))
    }

    async fn create_chunk(
        &self,
        inputs: &[OrganizationInput],
        mut pending: Vec<usize>,
        attempts: &mut [u32],
        outcomes: &mut [Option<Result<WrittenOrg, ItemFailure>>],
    ) -> Result<(), ZendeskError> {
        let max_rounds = MAX_NAME_ATTEMPTS + self.config().retry.max_retries + 1;
        let name_of = |i: usize, attempts: &[u32]| {
            disambiguated_name(&inputs[i].name, &inputs[i].external_id, attempts[i])
        };
        let reconciled = |i: usize, org: &Organization| {
            Ok(WrittenOrg {
                id: org.id,
                name: org.name.clone(),
                action: OrgAction::Reconciled,
                disambiguated: fold(&org.name) != fold(&inputs[i].name),
            })
        };
        let mut round = 0;
        while !pending.is_empty() {
            round += 1;
            if round > max_rounds {
                for i in pending.drain(..) {
                    outcomes[i] = Some(Err(ItemFailure {
                        error: "GaveUp".into(),
                        details: format!("not created after {max_rounds} rounds"),
                    }));
                }
                break;
            }
            let body: Vec<Value> = pending
                .iter()
                .map(|&i| create_body(&inputs[i], &name_of(i, attempts)))
                .collect();
            let job = self
                .run_bulk(Call::post(
                    "organizations/create_many",
                    json!({"organizations": body}),
                ))
                .await?;
            let mut check = Vec::new();
            let mut name_taken = Vec::new();
            match job {
                None => {
                    check.extend(pending.iter().copied());
                }
                Some(job) => {
                    for (pos, &i) in pending.iter().enumerate() {
                        match job.result_for(pos) {
                            Some(r) if r.succeeded() => match r.id {
                                Some(id) => {
                                    outcomes[i] = Some(Ok(WrittenOrg {
                                        id,
                                        name: name_of(i, attempts),
                                        action: OrgAction::Created,
                                        disambiguated: attempts[i] > 0,
                                    }));
                                }
                                None => check.push(i),
                            },
                            Some(r) => match conflict_in_result(
                                r,
                                &sent_values(&name_of(i, attempts), &inputs[i].external_id),
                            ) {
                                Conflict::Name => name_taken.push(i),
                                Conflict::ExternalId => check.push(i),
                                Conflict::Other => outcomes[i] = Some(Err(failure(r))),
                            },
                            None => check.push(i),
                        }
                    }
                }
            }
            let lookups: Vec<String> = check
                .iter()
                .chain(name_taken.iter())
                .map(|&i| inputs[i].external_id.clone())
                .collect();
            let found = if lookups.is_empty() {
                HashMap::new()
            } else {
                self.found_by_external_id(&lookups).await?
            };
            let mut next = Vec::new();
            let mut resubmit_unknown = false;
            for i in check {
                match found.get(&fold(&inputs[i].external_id)) {
                    Some(org) => outcomes[i] = Some(reconciled(i, org)),
                    None => {
                        resubmit_unknown = true;
                        next.push(i);
                    }
                }
            }
            for i in name_taken {
                match found.get(&fold(&inputs[i].external_id)) {
                    Some(org) => outcomes[i] = Some(reconciled(i, org)),
                    None if attempts[i] < MAX_NAME_ATTEMPTS => {
                        attempts[i] += 1;
                        next.push(i);
                    }
                    None => {
                        outcomes[i] = Some(Err(ItemFailure {
                            error: "DuplicateValue".into(),
                            details: format!(
                                "name `{}` and {MAX_NAME_ATTEMPTS} disambiguations are taken",
                                inputs[i].name
                            ),
                        }));
                    }
                }
            }
            next.sort_unstable();
            if resubmit_unknown {
                // Something went wrong upstream: back off before submitting again (renames go straight on).
                self.pause_before_retry(round).await;
            }
            pending = next;
        }
        Ok(())
    }

    /// `PUT /api/v2/organizations/update_many` (`{"organizations": [{id, ...}]}`) in jobs of up to 100; a taken
    /// name moves to the next disambiguation level and the item is resubmitted. The items of a job that ended
    /// `failed` or `killed` are settled by its results; only those without a result are sent again (updates
    /// are idempotent), after a pause; a batch whose answer was lost is sent again whole.
    pub async fn update_many_organizations(
        &self,
        updates: &[OrganizationUpdate],
    ) -> Result<Vec<OrgWrite>, ZendeskError> {
        let mut seen = HashMap::new();
        for (i, u) in updates.iter().enumerate() {
            if let Some(first) = seen.insert(u.id, i) {
                return Err(ZendeskError::InvalidInput(format!(
                    "organization {} appears twice (items {first} and {i})",
                    u.id
                )));
            }
        }
        let mut attempts = vec![0u32; updates.len()];
        let mut outcomes: Vec<Option<Result<WrittenOrg, ItemFailure>>> = vec![None; updates.len()];
        let order: Vec<usize> = (0..updates.len()).collect();
        let max_rounds = MAX_NAME_ATTEMPTS + self.config().retry.max_retries + 1;
        for chunk in order.chunks(MAX_BATCH) {
            let mut pending = chunk.to_vec();
            let mut round = 0;
            while !pending.is_empty() && round < max_rounds {
                round += 1;
                let body: Vec<Value> = pending
                    .iter()
                    .map(|&i| {
                        update_body(
                            &updates[i],
                            updates[i].name_at(attempts[i]).as_deref(),
                            true,
                        )
                    })
                    .collect();
                let job = self
                    .run_bulk(Call::put(
                        "organizations/update_many",
                        json!({"organizations": body}),
                    ))
                    .await?;
                let Some(job) = job else {
                    self.pause_before_retry(round).await;
                    continue;
                };
                let mut next = Vec::new();
                let mut unknown = false;
                for (pos, &i) in pending.iter().enumerate() {
                    match job.result_for_update(pos, updates[i].id) {
                        Some(r) if r.succeeded() => {
                            outcomes[i] = Some(Ok(WrittenOrg {
                                id: updates[i].id,
                                name: updates[i].name_at(attempts[i]).unwrap_or_default(),
                                action: OrgAction::Updated,
                                disambiguated: attempts[i] > 0,
                            }));
                        }
                        Some(r)
                            if conflict_in_result(
                                r,
                                &sent_values(
                                    &updates[i].name_at(attempts[i]).unwrap_or_default(),
                                    updates[i].external_id.as_deref().unwrap_or_default(),
                                ),
                            ) == Conflict::Name
                                && updates[i].name.is_some()
                                && attempts[i] < MAX_NAME_ATTEMPTS =>
                        {
                            attempts[i] += 1;
                            next.push(i);
                        }
                        Some(r) => outcomes[i] = Some(Err(failure(r))),
                        None => {
                            unknown = true;
                            next.push(i);
                        }
                    }
                }
                if unknown && round < max_rounds {
                    // Not processed by a job that stopped: back off before sending those again.
                    self.pause_before_retry(round).await;
                }
                pending = next;
            }
        }
        Ok(collect(
            outcomes,
            |i| updates[i].external_id.clone(),
            "not updated after the retries",
        ))
    }

    /// Brings Zendesk to `desired`: looks every `external_id` up (`show_many`), creates the missing
    /// organizations (`create_many`), updates those that differ (`update_many`) and leaves the rest alone.
    /// An organization whose name was disambiguated earlier keeps that name. Field values are compared as
    /// their field's type (Zendesk answers dates, decimals and tags in its own normal form), so an unchanged
    /// supplier causes no write.
    pub async fn upsert_organizations(
        &self,
        desired: &[OrganizationInput],
    ) -> Result<Vec<OrgWrite>, ZendeskError> {
        check_batch(desired)?;
        let ids: Vec<String> = desired.iter().map(|d| d.external_id.clone()).collect();
        let existing = self.found_by_external_id(&ids).await?;
        // Field values are compared by their field's type; the definitions are read only when needed.
        let types = if desired.iter().any(|d| !d.organization_fields.is_empty()) {
            FieldTypes::from_fields(&self.organization_fields().await?)
        } else {
            FieldTypes::default()
        };
        let mut results: Vec<Option<OrgWrite>> = vec![None; desired.len()];
        let mut creates = Vec::new();
        let mut create_at = Vec::new();
        let mut updates = Vec::new();
        let mut update_at = Vec::new();
        for (i, d) in desired.iter().enumerate() {
            match existing.get(&fold(&d.external_id)) {
                None => {
                    creates.push(d.clone());
                    create_at.push(i);
                }
                Some(org) => match diff(org, d, &types) {
                    None => {
                        results[i] = Some(OrgWrite {
                            index: i,
                            external_id: Some(d.external_id.clone()),
                            outcome: Ok(WrittenOrg {
                                id: org.id,
                                name: org.name.clone(),
                                action: OrgAction::Unchanged,
                                disambiguated: fold(&org.name) != fold(&d.name),
                            }),
                        });
                    }
                    Some(u) => {
                        updates.push(u);
                        update_at.push(i);
                    }
                },
            }
        }
        if !creates.is_empty() {
            for w in self.create_checked(&creates).await? {
                let i = create_at[w.index];
                results[i] = Some(OrgWrite { index: i, ..w });
            }
        }
        if !updates.is_empty() {
            for w in self.update_many_organizations(&updates).await? {
                let i = update_at[w.index];
                let mut w = OrgWrite {
                    index: i,
                    external_id: Some(desired[i].external_id.clone()),
                    ..w
                };
                // A name that was not sent is the one Zendesk already has.
                if let Ok(written) = &mut w.outcome
                    && written.name.is_empty()
                    && let Some(org) = existing.get(&fold(&desired[i].external_id))
                {
                    written.name.clone_from(&org.name);
                    written.disambiguated = fold(&org.name) != fold(&desired[i].name);
                }
                results[i] = Some(w);
            }
        }
        Ok(results
            .into_iter()
            .enumerate()
            .map(|(i, r)| {
                r.unwrap_or_else(|| OrgWrite {
                    index: i,
                    external_id: Some(desired[i].external_id.clone()),
                    outcome: Err(ItemFailure {
                        error: "NotProcessed".into(),
                        details: "no result".into(),
                    }),
                })
            })
            .collect())
    }
}

/// Every input is complete (name, `external_id`) and no `external_id` appears twice (case-insensitively).
fn check_batch(inputs: &[OrganizationInput]) -> Result<(), ZendeskError> {
    let mut seen = HashMap::new();
    for (i, input) in inputs.iter().enumerate() {
        check_input(input)?;
        if let Some(first) = seen.insert(fold(&input.external_id), i) {
            return Err(ZendeskError::InvalidInput(format!(
                "external_id `{}` appears twice (items {first} and {i})",
                input.external_id
            )));
        }
    }
    Ok(())
}

fn failure(r: &JobResult) -> ItemFailure {
    ItemFailure {
        error: r.error.clone().unwrap_or_else(|| "Failed".into()),
        details: r.details.clone().unwrap_or_default(),
    }
}

/// Disambiguation levels to start from: within the input, the first of a group of equal names (by smallest
/// `external_id`) keeps the name; the others start at level 1.
fn initial_attempts(inputs: &[OrganizationInput]) -> Vec<u32> {
    let mut groups: HashMap<String, Vec<usize>> = HashMap::new();
    for (i, input) in inputs.iter().enumerate() {
        groups.entry(fold(&input.name)).or_default().push(i);
    }
    let mut attempts = vec![0; inputs.len()];
    for members in groups.values() {
        if members.len() < 2 {
            continue;
        }
        let mut sorted = members.clone();
        sorted.sort_by_key(|&i| fold(&inputs[i].external_id));
        for &i in sorted.iter().skip(1) {
            attempts[i] = 1;
        }
    }
    attempts
}

fn collect(
    outcomes: Vec<Option<Result<WrittenOrg, ItemFailure>>>,
    external_id: impl Fn(usize) -> Option<String>,
    missing: &str,
) -> Vec<OrgWrite> {
    outcomes
        .into_iter()
        .enumerate()
        .map(|(i, o)| OrgWrite {
            index: i,
            external_id: external_id(i),
            outcome: o.unwrap_or_else(|| {
                Err(ItemFailure {
                    error: "NotProcessed".into(),
                    details: missing.to_string(),
                })
            }),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn in_batch_duplicates_keep_the_smallest_key() {
        let input = |name: &str, ext: &str| OrganizationInput {
            name: name.into(),
            external_id: ext.into(),
            ..Default::default()
        };
        let inputs = [
            input("Acme", "S-9"),
            input("Other", "S-5"),
            input("ACME ", "S-2"),
        ];
        assert_eq!(initial_attempts(&inputs), vec![1, 0, 0]);
    }

    #[test]
    fn a_batch_is_checked_whole() {
        let input = |name: &str, ext: &str| OrganizationInput {
            name: name.into(),
            external_id: ext.into(),
            ..Default::default()
        };
        assert!(check_batch(&[input("Acme", "S-1"), input("Acme", "S-2")]).is_ok());
        for bad in [
            vec![input("Acme", "S-1"), input("Other", " s-1")],
            vec![input("Acme", "S-1"), input(" ", "S-2")],
            vec![input("Acme", "")],
        ] {
            assert!(
                matches!(check_batch(&bad), Err(ZendeskError::InvalidInput(_))),
                "{bad:?}"
            );
        }
    }
}
