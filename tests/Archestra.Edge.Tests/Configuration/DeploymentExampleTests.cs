using System.Diagnostics;
using Archestra.Edge.Configuration;
using YamlDotNet.RepresentationModel;

namespace Archestra.Edge.Tests.Configuration;

/// <summary>
/// How a fleet is deployed, as shipped: the kustomize base under <c>config/kubernetes</c>, rendered by the real
/// <c>kubectl kustomize</c> (Debian's <c>kubernetes-client</c>, installed by .ci/run) — the objects a fleet needs are
/// there, probes and draining are wired to the gateway's endpoints and shutdown, and the config it ships loads — and the
/// HAProxy example for VMs, checked by the real <c>haproxy -c</c>.
/// </summary>
public sealed class DeploymentExampleTests
{
    [Fact]
    public void TheHaproxyExample_IsAValidConfig_WithoutStickiness()
    {
        const string Haproxy = "/usr/sbin/haproxy";
        Assert.True(File.Exists(Haproxy), "haproxy is not installed (apt-get install haproxy; .ci/run installs it)");
        var path = Path.Combine(RepositoryRoot.Path, "config", "haproxy", "haproxy.cfg");
        using var process = Process.Start(new ProcessStartInfo(Haproxy, ["-c", "-f", path]) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        var output = process.StandardOutput.ReadToEnd() + process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, output);
        Assert.DoesNotContain("WARNING", output, StringComparison.Ordinal);

        var text = File.ReadAllText(path);
        Assert.Contains("balance roundrobin", text, StringComparison.Ordinal);
        Assert.DoesNotContain("stick", text.Replace("stickiness", string.Empty, StringComparison.Ordinal), StringComparison.Ordinal);
        Assert.DoesNotContain("cookie", text, StringComparison.Ordinal);
    }

    [Fact]
    public void TheKustomizeBase_Renders_AFleetWithProbesDrainingAndAConfigThatLoads()
    {
        var objects = Render();
        Assert.Equal(["ConfigMap", "Deployment", "PodDisruptionBudget", "Secret", "Service"], objects.Keys.Order(StringComparer.Ordinal));

        var deployment = objects["Deployment"];
        Assert.True(int.Parse(Scalar(deployment, "spec", "replicas"), System.Globalization.CultureInfo.InvariantCulture) >= 2);
        var pod = Node(deployment, "spec", "template", "spec");
        // Longer than the gateway's own shutdown (10 s to finish calls) plus the preStop pause.
        Assert.True(int.Parse(Scalar(pod, "terminationGracePeriodSeconds"), System.Globalization.CultureInfo.InvariantCulture) >= 20);
        var container = (YamlMappingNode)((YamlSequenceNode)Node(pod, "containers")).Children[0];
        Assert.Equal("/readyz", Scalar(container, "readinessProbe", "httpGet", "path"));
        Assert.Equal("/healthz", Scalar(container, "livenessProbe", "httpGet", "path"));
        Assert.Equal("status.podIP", Scalar((YamlMappingNode)((YamlSequenceNode)Node(container, "env")).Children[0], "valueFrom", "fieldRef", "fieldPath"));
        Assert.Equal("1", Scalar(objects["PodDisruptionBudget"], "spec", "maxUnavailable"));
        Assert.Equal("None", Scalar(objects["Service"], "spec", "sessionAffinity"));

        // The Deployment mounts the generated ConfigMap (its name carries the content's hash, so a change rolls the pods).
        var configMapName = Scalar(objects["ConfigMap"], "metadata", "name");
        var volumes = (YamlSequenceNode)Node(pod, "volumes");
        Assert.Contains(volumes.Children, v => ((YamlMappingNode)v).Children.TryGetValue("configMap", out var c) && Scalar((YamlMappingNode)c, "name") == configMapName);

        // The config in the ConfigMap loads, with the variables the Secret and the downward API supply.
        var secret = (YamlMappingNode)Node(objects["Secret"], "stringData");
        var environment = secret.Children.ToDictionary(p => ((YamlScalarNode)p.Key).Value!, p => ((YamlScalarNode)p.Value).Value!);
        environment["POD_IP"] = "10.1.2.3";
        var file = Path.Combine(Directory.CreateTempSubdirectory("archestra-k8s-").FullName, "archestra.yaml");
        File.WriteAllText(file, Scalar(objects["ConfigMap"], "data", "archestra.yaml"));
        var loaded = ConfigLoader.LoadFile(file, environment.GetValueOrDefault);
        Assert.True(loaded.Succeeded, string.Join("\n", loaded.Diagnostics));
        Assert.True(loaded.Snapshot!.Storage.IsPostgres);
        Assert.Equal(new Uri("http://10.1.2.3:9000"), loaded.Snapshot.Listener.AdvertiseUrl);
    }

    private static Dictionary<string, YamlMappingNode> Render()
    {
        var kubectl = new[] { "/usr/bin/kubectl", "/usr/local/bin/kubectl" }.FirstOrDefault(File.Exists);
        Assert.True(kubectl is not null, "kubectl is not installed (apt-get install kubernetes-client; .ci/run installs it)");
        var start = new ProcessStartInfo(kubectl, ["kustomize", Path.Combine(RepositoryRoot.Path, "config", "kubernetes")])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(start)!;
        var errors = process.StandardError.ReadToEndAsync();
        var output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"kubectl kustomize failed: {errors.Result}");

        var stream = new YamlStream();
        stream.Load(new StringReader(output));
        return stream.Documents.Select(d => (YamlMappingNode)d.RootNode).ToDictionary(d => Scalar(d, "kind"));
    }

    private static YamlNode Node(YamlNode node, params string[] path)
    {
        YamlNode current = node;
        foreach (var key in path)
        {
            current = ((YamlMappingNode)current).Children[new YamlScalarNode(key)];
        }

        return current;
    }

    private static string Scalar(YamlNode node, params string[] path) => ((YamlScalarNode)Node(node, path)).Value!;
}
